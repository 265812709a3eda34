#include "pci_addr.h"
#include "tap.h"

static const char *norm(const char *in, bool require_domain)
{
	static char buf[PCI_ADDR_STRLEN];
	struct pci_addr a;
	if (pci_addr_parse(in, require_domain, &a) < 0)
		return NULL;
	return pci_addr_format(&a, buf);
}

int main(void)
{
	is_str(norm("01:00", false), "0000:01:00", "slot without domain stays a slot");
	is_str(norm("01:00.0", false), "0000:01:00.0", "function without domain");
	is_str(norm("0000:01:00.0", false), "0000:01:00.0", "full id");
	is_str(norm("0000:00:02", false), "0000:00:02", "full slot id");
	is_str(norm("10000:01:00.1", false), "10000:01:00.1", "domain of five digits");
	is_str(norm("1b:00", false), "0000:1b:00", "hex bus");
	ok(!norm("01:00.0", true), "mapping paths require the domain");
	ok(!norm("0A:00.0", false), "uppercase is rejected as Proxmox does");
	ok(!norm("000:01:00.0", false), "domain shorter than four digits");
	ok(!norm("01:20.0", false), "slot above 0x1f");
	ok(!norm("01:00.8", false), "function above 7");
	ok(!norm("1:00.0", false), "one-digit bus");
	ok(!norm("01:00.", false), "dot without function");
	ok(!norm("", false), "empty");
	ok(!norm("0000:01:00.0 ", false), "trailing space");

	struct pci_addr slot, f0, f1, other;
	pci_addr_parse("05:00", false, &slot);
	pci_addr_parse("0000:05:00.0", false, &f0);
	pci_addr_parse("0000:05:00.1", false, &f1);
	pci_addr_parse("0000:06:00.0", false, &other);
	ok(pci_addr_overlaps(&slot, &f1) && pci_addr_overlaps(&f1, &slot), "a slot id covers every function");
	ok(!pci_addr_overlaps(&f0, &f1), "two functions of one slot are distinct");
	ok(!pci_addr_overlaps(&slot, &other), "other bus");
	ok(pci_addr_same_slot(&f0, &f1), "same slot");
	return tap_done();
}
