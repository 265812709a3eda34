# The core library: the node as Proxmox sees it. No printing, no main().
src_libpvegpu_a_SOURCES += \
	src/macro.h src/util.c \
	src/rootfs.h src/rootfs.c \
	src/fileio.h src/fileio.c \
	src/problems.h src/problems.c \
	src/json.h src/json.c \
	src/pci_addr.h src/pci_addr.c \
	src/vmconf.h \
	src/mapping.h \
	src/lxcconf.h \
	src/node.h

UNIT_TESTS = tests/unit/pci_addr.t
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_unit_pci_addr_t_SOURCES = tests/unit/pci_addr.t.c tests/unit/tap.h
