/* Judging one card as gpu-diag does: probe the facts of the card's functions
 * (gpuprobe.h), then run the verdicts of gpucheck.h over them. No printing:
 * gpu-diag prints the checks, the setup wizard sums them up in one word. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "gpucheck.h"
#include "gpuprobe.h"

/* What the card checks look at, loaded once per run. */
struct gpu_scan {
	struct host_facts host;
	struct pci_inventory inv;
	struct iommu_member *members;
	size_t n_members;
	struct pci_access *pacc;     /* NULL: config space unreadable */
};

/* Host facts, PCI functions, IOMMU groups and libpci (its failure only leaves
 * pacc NULL, with libpci's message in *ret_pci_error when given).
 * Returns 0 or -errno; release with gpu_scan_release either way. */
int gpu_scan_load(struct gpu_scan *s, char **ret_pci_error);
void gpu_scan_release(struct gpu_scan *s);

/* One judged check with the id gpu-diag's JSON gives it. */
struct card_check {
	const char *id;
	struct check_result result;
};

struct card_checks {
	struct card_check items[12];
	size_t n;
};

/* Is o another function of f's card (same slot, neither an SR-IOV VF)? */
bool card_function(const struct gpu_function *f, const struct gpu_function *o);
/* Probe inv.fns[i] and the other functions of its card. Returns 0 or -errno. */
int gpu_card_probe(struct gpu_scan *s, size_t i);
/* The checks of the function inv.fns[i] (probed): alive, driver, power, reset,
 * AMD reset bug, siblings, IOMMU group, link, SR-IOV. passed_whole: a guest
 * takes the whole card. Returns 0 or -ENOMEM. */
int gpu_card_judge(const struct gpu_scan *s, size_t i, bool passed_whole, struct card_checks *ret);
/* The light checks of another function of the card (probed): alive, driver, power. */
void gpu_function_judge(const struct gpu_scan *s, size_t j, struct card_checks *ret);
/* The reset check of inv.fns[i] (probed): the Proxmox layer judges backups by it. */
void gpu_card_reset(const struct gpu_scan *s, size_t i, struct check_result *ret);

/* The worst verdict over inv.fns[i] and its card's other functions that are
 * no GPU themselves, as gpu-diag shows them. Probes. Returns 0 or -errno. */
int gpu_card_readiness(struct gpu_scan *s, size_t i, bool passed_whole, enum verdict *ret);
