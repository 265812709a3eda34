# The core library: the node as Proxmox sees it. No printing, no main().
src_libpvegpu_a_SOURCES += \
	src/macro.h src/util.c \
	src/strutil.h src/strutil.c \
	src/rootfs.h src/rootfs.c \
	src/fileio.h src/fileio.c \
	src/problems.h src/problems.c \
	src/json.h src/json.c \
	src/pci_addr.h src/pci_addr.c \
	src/vmconf.h src/vmconf.c src/hostpci.c \
	src/mapping.h src/mapping.c \
	src/lxcconf.h src/lxcconf.c \
	src/node.h src/node.c src/guest.h src/guest.c \
	src/running.c src/reservations.c src/iommu.c src/devnode.c src/ha.c src/holders.c \
	src/conflict.h src/conflict.c

UNIT_TESTS = tests/unit/pci_addr.t tests/unit/vmconf.t tests/unit/mapping.t tests/unit/lxcconf.t tests/unit/conflict.t tests/unit/node.t
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
EXTRA_DIST += tests/unit/fixture.h
tests_unit_pci_addr_t_SOURCES = tests/unit/pci_addr.t.c tests/unit/tap.h
tests_unit_vmconf_t_SOURCES = tests/unit/vmconf.t.c
tests_unit_mapping_t_SOURCES = tests/unit/mapping.t.c
tests_unit_lxcconf_t_SOURCES = tests/unit/lxcconf.t.c
tests_unit_conflict_t_SOURCES = tests/unit/conflict.t.c
tests_unit_node_t_SOURCES = tests/unit/node.t.c
