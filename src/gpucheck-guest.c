/* Verdicts of the Proxmox layer: the guests that use a card and their backups. */
#include <stdio.h>

#include "checkresult.h"

static const char *guest_word(const struct card_user *u)
{
	return u->is_ct ? "CT" : "VM";
}

void check_card_users(const struct card_user *users, size_t n, struct check_result *r)
{
	check_result_init(r, VERDICT_PASS, "the guests using it");
	SET(r->evidence, "guests=");
	SET(r->status, "%s", n ? "" : "no guest");
	for (size_t i = 0; i < n; i++) {
		APPEND(r->evidence, "%s%u", i ? "," : "", users[i].vmid);
		APPEND(r->status, "%s%s %u (%s%s)", i ? ", " : "", guest_word(&users[i]), users[i].vmid,
		       users[i].running ? "running" : "stopped", users[i].template ? ", template" : "");
	}
	if (n == 0)
		r->verdict = VERDICT_INFO;
	else if (n > 1) {
		r->verdict = VERDICT_WARN;
		SET(r->hint, "several guests use this card: only one can hold it; set up pve-gpu-backup-hook "
		    "(pve-gpu-backup-setup) so backups park the holder instead of failing with 'already in use'");
	}
}

void check_card_holder(const struct card_user *holder, const char *source, size_t n_vm_users, struct check_result *r)
{
	check_result_init(r, VERDICT_PASS, "who holds it now");
	if (!holder) {
		SET(r->status, "nobody");
		SET(r->evidence, "holder=(none)");
		return;
	}
	r->verdict = VERDICT_INFO;
	SET(r->evidence, "holder=%u type=%s source=%s", holder->vmid, holder->is_ct ? "lxc" : "qemu", source ? source : "");
	SET(r->status, "%s %u (%s)", guest_word(holder), holder->vmid, source ? source : "running");
	if (holder->is_ct && n_vm_users > 0) {
		r->verdict = VERDICT_WARN;
		SET(r->hint, "CT %u uses the card through the host driver; starting a VM with it (a backup does) unbinds that "
		    "driver under the container: let pve-gpu-backup-hook park the container first", holder->vmid);
	}
}

void check_guest_takes_card(const struct card_user *u, const struct pci_addr *missing, size_t n, struct check_result *r)
{
	char what[64], addr[PCI_ADDR_STRLEN];
	snprintf(what, sizeof(what), "that %s %u takes the whole card", guest_word(u), u->vmid);
	check_result_init(r, n ? VERDICT_FAIL : VERDICT_PASS, what);
	SET(r->evidence, "vmid=%u missing=", u->vmid);
	SET(r->status, "%s", n ? "leaves out" : "all functions");
	for (size_t i = 0; i < n; i++) {
		APPEND(r->evidence, "%s%s", i ? "," : "", pci_addr_format(&missing[i], addr));
		APPEND(r->status, " %s", addr);
	}
	if (n) {
		struct pci_addr slot = missing[0];
		slot.has_func = false;
		SET(r->hint, "the card is reset as a whole only when the guest has every function: pass the slot "
		    "(hostpciN: %s, 'All Functions' in the GUI) or map every function", pci_addr_format(&slot, addr));
	}
}

void check_stopped_vm_backup(const struct card_user *vm, const struct check_result *reset, struct check_result *r)
{
	char what[64];
	snprintf(what, sizeof(what), "the backup of stopped VM %u", vm->vmid);
	check_result_init(r, VERDICT_PASS, what);
	SET(r->evidence, "vmid=%u running=no reset_verdict=%s", vm->vmid, verdict_name(reset->verdict));
	SET(r->status, "card reset: %s", reset->status);
	if (reset->verdict == VERDICT_PASS)
		return;
	if (reset->verdict == VERDICT_UNKNOWN) {
		r->verdict = VERDICT_UNKNOWN;
		SET(r->hint, "run as root to judge the card's reset");
		return;
	}
	r->verdict = VERDICT_FAIL;
	SET(r->hint, "a stop-mode backup starts VM %u with this card, which has no sure reset (%s): the backup may hang or "
	    "leave the card dead; fix the reset check first, or exclude VM %u from stop-mode jobs", vm->vmid, reset->status, vm->vmid);
}
