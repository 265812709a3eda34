#include <string.h>

#include "mapping.h"
#include "tap.h"
#include "fixture.h"

int main(void)
{
	char buf[PCI_ADDR_STRLEN];
	struct mapping_table t;
	struct problem_list pl = { 0 };
	char *text = fixture("mapping/several.cfg");

	is_int(mapping_parse(text, "/etc/pve/mapping/pci.cfg", "pve1", &t, &pl), 0, "parses");
	is_int(t.n, 3, "three mappings");
	const struct pci_mapping *m = mapping_find(&t, "gpu");
	ok(m, "gpu found");
	if (m) {
		is_int(m->n_alts, 2, "two alternatives on pve1");
		is_int(m->n_other_nodes, 1, "one map line for pve2");
		is_str(pci_addr_format(&m->alts[0].devs[0], buf), "0000:01:00", "slot path kept");
		is_str(m->alts[0].iommugroup, "14", "iommugroup");
		is_str(m->alts[0].id, "10de:2204", "id");
		is_int(m->alts[1].n_devs, 2, "';' path is one set");
		is_str(pci_addr_format(&m->alts[1].devs[1], buf), "0000:02:00.1", "second of the set");
		ok(!m->mdev, "not mdev");
	}
	m = mapping_find(&t, "vgpu");
	ok(m && m->mdev && m->n_alts == 1, "mdev mapping after a blank line");
	ok(!mapping_find(&t, "nope"), "unknown mapping");
	m = mapping_find(&t, "broken");
	ok(m && m->n_alts == 0, "broken map lines are skipped");
	is_int(pl.n, 2, "two problems");
	if (pl.n == 2) {
		is_int(pl.items[0].line, 12, "path without domain");
		is_str(pl.items[0].message, "mapping 'broken': invalid PCI path", "message");
		is_int(pl.items[1].line, 13, "map without node");
	}
	mapping_table_release(&t);

	is_int(mapping_parse(text, "pci.cfg", "pve2", &t, &pl), 0, "other node");
	m = mapping_find(&t, "gpu");
	ok(m && m->n_alts == 1 && m->n_other_nodes == 2, "pve2 sees its own line only");
	mapping_table_release(&t);
	problem_list_release(&pl);

	is_int(mapping_parse("gpu\n\tmap node=pve1,path=0000:01:00.0,id=10de:1", "x", "pve1", &t, &pl), 0, "no final newline");
	ok(t.n == 1 && t.maps[0].n_alts == 1, "last line read");
	mapping_table_release(&t);
	is_int(mapping_parse("  map node=pve1,path=0000:01:00.0\n", "x", "pve1", &t, &pl), 0, "property before a section");
	is_int(pl.n, 1, "reported");
	mapping_table_release(&t);
	problem_list_release(&pl);
	free(text);
	return tap_done();
}
