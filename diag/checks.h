/* The checks gpu-diag runs, grouped as the user sees them: host, card, function. */
#pragma once

#include <stdbool.h>

#include "gpucard.h"
#include "report.h"

struct diag_context {
	struct report *report;
	struct gpu_scan scan;
};

void diag_host(struct diag_context *ctx);
/* Probe and judge the function scan.inv.fns[i] (a GPU) and the other functions of its
 * slot. passed_whole: a guest takes the whole card (SR-IOV check). */
int diag_card(struct diag_context *ctx, size_t i, bool passed_whole);
/* The checks of the card's other functions (after diag_card). */
void diag_card_functions(struct diag_context *ctx, size_t i);
