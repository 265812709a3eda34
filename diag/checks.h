/* The checks gpu-diag runs, grouped as the user sees them: host, card, function. */
#pragma once

#include <stdbool.h>

#include "gpuprobe.h"
#include "report.h"

struct diag_context {
	struct report *report;
	struct host_facts host;
	struct pci_inventory inv;
	struct iommu_member *members;
	size_t n_members;
	struct pci_access *pacc;     /* NULL: config space unreadable */
};

void diag_host(struct diag_context *ctx);
/* Is o another function of f's card (same slot, neither an SR-IOV VF)? */
bool card_function(const struct gpu_function *f, const struct gpu_function *o);
/* Probe and judge the function inv.fns[i] (a GPU) and the other functions of its
 * slot. passed_whole: a guest takes the whole card (SR-IOV check). */
int diag_card(struct diag_context *ctx, size_t i, bool passed_whole);
/* The checks of the card's other functions (after diag_card). */
void diag_card_functions(struct diag_context *ctx, size_t i);
/* Reset check of inv.fns[i] (after diag_card probed it): used by the Proxmox layer. */
void diag_reset_result(struct diag_context *ctx, size_t i, struct check_result *ret);
