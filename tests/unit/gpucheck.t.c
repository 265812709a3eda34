/* Verdicts on plain facts: every rule of GPU-DIAG.md that decides PASS/WARN/FAIL. */
#include <string.h>

#include "gpucheck.h"
#include "tap.h"

static struct gpu_function card(uint16_t vendor, uint16_t device, const char *driver)
{
	struct gpu_function f = { 0 };
	pci_addr_parse("0000:01:00.0", true, &f.addr);
	f.vendor = vendor;
	f.device = device;
	f.class_code = 0x030000;
	snprintf(f.driver, sizeof(f.driver), "%s", driver);
	f.boot_vga = 0;
	f.d3cold_allowed = -1;
	f.cur_link_width = f.max_link_width = -1;
	f.sriov_numvfs = f.sriov_totalvfs = -1;
	snprintf(f.power_state, sizeof(f.power_state), "D0");
	snprintf(f.runtime_status, sizeof(f.runtime_status), "active");
	f.cfg.readable = f.cfg.caps_readable = true;
	f.cfg.vendor = vendor;
	f.cfg.device = device;
	f.cfg.is_pcie = true;
	f.cfg.has_pm = true;
	f.cfg.pm_no_soft_reset = true;
	snprintf(f.iommu_group, sizeof(f.iommu_group), "14");
	return f;
}

static void set_methods(struct gpu_function *f, const char *m)
{
	f->has_reset_method = true;
	f->has_reset = m[0] != '\0';
	snprintf(f->reset_method, sizeof(f->reset_method), "%s", m);
}

static void test_reset(void)
{
	struct check_result r;
	struct reset_topology one = { .n_slot_functions = 1, .all_slot_vfio = true };
	struct reset_topology two_vfio = { .n_slot_functions = 2, .all_slot_vfio = true };
	struct reset_topology two_host = { .n_slot_functions = 2, .all_slot_vfio = false };

	struct gpu_function f = card(0x10de, 0x2206, "vfio-pci");
	f.cfg.flr = true;
	set_methods(&f, "flr bus");
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_PASS, "FLR listed: PASS");
	is_str(r.status, "flr bus", "status names the methods");

	f = card(0x10de, 0x2206, "vfio-pci");
	set_methods(&f, "bus");
	check_reset(&f, &two_vfio, &r);
	is_int(r.verdict, VERDICT_PASS, "only bus, but both functions on vfio-pci: hot reset works");
	ok(strstr(r.status, "whole card"), "status says the whole card is reset");

	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_WARN, "stale bus with the audio function on a host driver: WARN");
	ok(strstr(r.status, "stale"), "status calls out the stale bus entry");
	ok(strstr(r.hint, "vfio-pci"), "hint says to bind every function to vfio-pci");

	check_reset(&f, &one, &r);
	is_int(r.verdict, VERDICT_PASS, "single function behind a bridge: bus reset works");

	f.on_root_bus = true;
	check_reset(&f, &one, &r);
	is_int(r.verdict, VERDICT_WARN, "bus listed but the card sits on the root bus: not usable");

	f = card(0x10de, 0x2340, "vfio-pci");
	set_methods(&f, "");
	f.cfg.pm_no_soft_reset = true;
	check_reset(&f, &two_vfio, &r);
	is_int(r.verdict, VERDICT_FAIL, "bus reset quirked off, no FLR, NoSoftRst: FAIL");
	ok(strstr(r.hint, "Inappropriate ioctl"), "hint explains the ENOTTY message");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.cfg.flr = true;
	set_methods(&f, "");
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_WARN, "reset_method emptied although FLR exists: WARN");
	ok(strstr(r.hint, "default"), "hint says to write default");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.cfg.pm_no_soft_reset = false;
	f.has_reset = true;
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_PASS, "old kernel, PM reset from config space: PASS");
	ok(strstr(r.status, "pm"), "status says pm");

	f = card(0x1002, 0x731f, "vfio-pci");
	f.cfg.pm_no_soft_reset = false;
	set_methods(&f, "");
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_FAIL, "PM reset does not count for AMD VGA (quirked)");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.has_reset = true;
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_WARN, "old kernel, reset file but no method visible and none from config: WARN, not FAIL");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.cfg.has_af = f.cfg.af_tp = f.cfg.af_flr = true;
	f.has_reset = true;
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_PASS, "AF FLR from config space: PASS");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.cfg.caps_readable = false;
	set_methods(&f, "bus");
	check_reset(&f, &two_host, &r);
	is_int(r.verdict, VERDICT_UNKNOWN, "no root and only bus listed: UNKNOWN, not FAIL");
	ok(strstr(r.status, "needs root"), "status says needs root");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.cfg.all_ff = true;
	check_reset(&f, &one, &r);
	is_int(r.verdict, VERDICT_FAIL, "card off the bus: reset FAIL");
}

static void test_power(void)
{
	struct check_result r;
	struct gpu_function f = card(0x10de, 0x2206, "vfio-pci");
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_PASS, "D0: PASS");

	snprintf(f.power_state, sizeof(f.power_state), "D3hot");
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_PASS, "D3hot idle on vfio-pci: PASS");

	snprintf(f.power_state, sizeof(f.power_state), "D3cold");
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_FAIL, "D3cold without FLR: FAIL");
	ok(strstr(r.hint, "d3cold_allowed"), "hint gives the udev rule");
	f.cfg.flr = true;
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_WARN, "D3cold with FLR: WARN");
	f.cfg.caps_readable = false;
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_WARN, "D3cold, FLR unknown: WARN");

	f = card(0x10de, 0x2206, "vfio-pci");
	snprintf(f.runtime_status, sizeof(f.runtime_status), "error");
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_FAIL, "runtime_status error: FAIL");
	f = card(0x10de, 0x2206, "vfio-pci");
	snprintf(f.power_state, sizeof(f.power_state), "unknown");
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_FAIL, "power_state unknown: FAIL");

	f = card(0x10de, 0x2206, "vfio-pci");
	f.d3cold_allowed = 1;
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_WARN, "d3cold_allowed=1 on a GPU without FLR: WARN");
	f.cfg.flr = true;
	check_power(&f, &r);
	is_int(r.verdict, VERDICT_PASS, "d3cold_allowed=1 with FLR: PASS");
}

static void test_driver(void)
{
	struct check_result r;
	struct gpu_function f = card(0x10de, 0x2206, "vfio-pci");
	check_driver(&f, "", &r);
	is_int(r.verdict, VERDICT_PASS, "vfio-pci: PASS");
	f = card(0x10de, 0x2206, "");
	check_driver(&f, "", &r);
	is_int(r.verdict, VERDICT_INFO, "no driver: INFO");
	f = card(0x10de, 0x2206, "nouveau");
	check_driver(&f, "", &r);
	is_int(r.verdict, VERDICT_WARN, "host driver: WARN");
	ok(strstr(r.hint, "ids=10de:2206"), "hint gives the vfio-pci ids option");
	check_driver(&f, "8086:1234,10de:2206", &r);
	ok(strstr(r.hint, "softdep nouveau pre: vfio-pci") && strstr(r.hint, "lists 10de:2206"), "id configured: the host driver won the race");
	ok(vfio_ids_contain("10de:2206,10de:1aef", 0x10de, 0x1aef), "ids list lookup");
	ok(!vfio_ids_contain("10de:22061", 0x10de, 0x2206), "no prefix match");
	f.boot_vga = 1;
	check_driver(&f, "", &r);
	is_int(r.verdict, VERDICT_FAIL, "host driver on the boot VGA: FAIL");
	f = card(0x10de, 0x2206, "vfio-pci");
	snprintf(f.driver_override, sizeof(f.driver_override), "nvidia");
	check_driver(&f, "", &r);
	is_int(r.verdict, VERDICT_WARN, "driver_override other than vfio-pci: WARN");
	f = card(0x10de, 0x1eb8, "nvidia");
	f.mdev_parent = true;
	check_driver(&f, "", &r);
	is_int(r.verdict, VERDICT_PASS, "vGPU parent on its host driver: PASS");
}

static void test_siblings_group(void)
{
	struct check_result r;
	struct gpu_function f = card(0x10de, 0x2206, "vfio-pci");
	struct gpu_function audio = card(0x10de, 0x1aef, "snd_hda_intel");
	pci_addr_parse("0000:01:00.1", true, &audio.addr);
	check_siblings(&f, &audio, 1, &r);
	is_int(r.verdict, VERDICT_FAIL, "audio function on snd_hda_intel: FAIL");
	ok(strstr(r.status, "0000:01:00.1 (snd_hda_intel)"), "status names the function and driver");
	snprintf(audio.driver, sizeof(audio.driver), "vfio-pci");
	check_siblings(&f, &audio, 1, &r);
	is_int(r.verdict, VERDICT_PASS, "audio function on vfio-pci: PASS");

	struct group_member m[2] = { 0 };
	pci_addr_parse("0000:00:01.0", true, &m[0].addr);
	m[0].class_code = 0x060400;
	pci_addr_parse("0000:02:00.0", true, &m[1].addr);
	m[1].class_code = 0x010802;
	check_iommu_group(&f, m, 1, &r);
	is_int(r.verdict, VERDICT_PASS, "group with a root port only: PASS");
	check_iommu_group(&f, m, 2, &r);
	is_int(r.verdict, VERDICT_FAIL, "group shared with an NVMe controller: FAIL");
	ok(strstr(r.status, "0000:02:00.0"), "status names the other device");
	f.iommu_group[0] = '\0';
	check_iommu_group(&f, NULL, 0, &r);
	is_int(r.verdict, VERDICT_FAIL, "no IOMMU group: FAIL");
}

static void test_amd_link_sriov(void)
{
	struct check_result r;
	struct gpu_function f = card(0x1002, 0x731f, "vfio-pci");
	is_str(amd_reset_bug_family(0x1002, 0x731f), "Navi 10", "0x731f is Navi 10");
	ok(!amd_reset_bug_family(0x1002, 0x73bf), "Navi 21 has no reset bug entry");
	ok(!amd_reset_bug_family(0x10de, 0x731f), "NVIDIA id is no AMD family");
	set_methods(&f, "bus");
	ok(check_amd_reset_bug(&f, false, &r), "Navi 10 gets the AMD check");
	is_int(r.verdict, VERDICT_FAIL, "Navi 10 without vendor-reset: FAIL");
	check_amd_reset_bug(&f, true, &r);
	is_int(r.verdict, VERDICT_FAIL, "vendor-reset loaded but reset_method not device_specific: FAIL");
	ok(strstr(r.hint, "device_specific"), "hint gives the udev rule");
	set_methods(&f, "device_specific bus");
	check_amd_reset_bug(&f, true, &r);
	is_int(r.verdict, VERDICT_PASS, "vendor-reset in use: PASS");
	f = card(0x10de, 0x2206, "vfio-pci");
	ok(!check_amd_reset_bug(&f, false, &r), "no AMD check for NVIDIA");

	snprintf(f.cur_link_speed, sizeof(f.cur_link_speed), "8.0 GT/s PCIe");
	snprintf(f.max_link_speed, sizeof(f.max_link_speed), "16.0 GT/s PCIe");
	f.cur_link_width = 16;
	f.max_link_width = 16;
	ok(check_link(&f, &r), "link known");
	is_int(r.verdict, VERDICT_WARN, "speed below max: WARN");
	snprintf(f.cur_link_speed, sizeof(f.cur_link_speed), "16.0 GT/s PCIe");
	check_link(&f, &r);
	is_int(r.verdict, VERDICT_PASS, "full speed and width: PASS");
	f.cur_link_width = 4;
	check_link(&f, &r);
	is_int(r.verdict, VERDICT_WARN, "x4 of x16: WARN");

	f = card(0x8086, 0x46a6, "i915");
	ok(!check_sriov(&f, false, &r), "no SR-IOV: no check");
	f.sriov_totalvfs = 7;
	f.sriov_numvfs = 3;
	ok(check_sriov(&f, true, &r), "SR-IOV PF");
	is_int(r.verdict, VERDICT_FAIL, "PF with VFs passed whole: FAIL");
	check_sriov(&f, false, &r);
	is_int(r.verdict, VERDICT_PASS, "PF with VFs kept on the host: PASS");
	f = card(0x8086, 0x46a6, "vfio-pci");
	f.is_vf = true;
	pci_addr_parse("0000:00:02.0", true, &f.physfn);
	f.physfn_ok = false;
	check_sriov(&f, false, &r);
	is_int(r.verdict, VERDICT_FAIL, "VF whose PF has no VFs: FAIL");
}

static void test_host(void)
{
	struct check_result r;
	struct host_facts h = { .is_root = true, .iommu_class_entries = 1, .iommu_groups = 20,
				.acpi_tables_readable = true, .dmar_table = true };
	check_host_iommu(&h, &r);
	is_int(r.verdict, VERDICT_PASS, "IOMMU on: PASS");
	h.iommu_groups = 0;
	h.iommu_class_entries = 0;
	h.dmar_table = false;
	check_host_iommu(&h, &r);
	is_int(r.verdict, VERDICT_FAIL, "no DMAR/IVRS: FAIL");
	ok(strstr(r.status, "firmware"), "told apart as off in firmware");
	h.dmar_table = true;
	check_host_iommu(&h, &r);
	is_int(r.verdict, VERDICT_FAIL, "table present but no groups: FAIL");
	ok(strstr(r.status, "no IOMMU groups"), "status says no groups");
	h.cmdline_amd_iommu_on = true;
	check_host_iommu(&h, &r);
	ok(strstr(r.hint, "amd_iommu=on is not a valid option"), "amd_iommu=on called out");
	h.cmdline_iommu_off = true;
	h.iommu_groups = 3;
	h.iommu_class_entries = 1;
	check_host_iommu(&h, &r);
	is_int(r.verdict, VERDICT_FAIL, "iommu=off: FAIL");

	check_host_acs_override(&h, &r);
	is_int(r.verdict, VERDICT_PASS, "no ACS override: PASS");
	snprintf(h.acs_override, sizeof(h.acs_override), "downstream,multifunction");
	check_host_acs_override(&h, &r);
	is_int(r.verdict, VERDICT_WARN, "ACS override: WARN");
	h.unsafe_interrupts = true;
	check_host_unsafe_interrupts(&h, &r);
	is_int(r.verdict, VERDICT_WARN, "unsafe interrupts: WARN");
	snprintf(h.kernel_release, sizeof(h.kernel_release), "5.4.0");
	h.kernel_major = 5;
	h.kernel_minor = 4;
	check_host_kernel(&h, &r);
	is_int(r.verdict, VERDICT_WARN, "kernel 5.4: WARN (no reset_method)");
	h.kernel_minor = 15;
	check_host_kernel(&h, &r);
	is_int(r.verdict, VERDICT_PASS, "kernel 5.15: PASS");
	h.is_root = false;
	check_host_root(&h, &r);
	is_int(r.verdict, VERDICT_WARN, "not root: WARN");

	ok(reset_method_has("flr bus", "bus"), "reset_method_has finds a later word");
	ok(!reset_method_has("af_flr bus", "flr"), "af_flr is not flr");
	ok(reset_method_starts_with("device_specific bus", "device_specific"), "starts_with");
	ok(pci_bus_reset_quirked(0x10de, 0x2342), "NVIDIA 0x234x quirked");
	ok(pci_bus_reset_quirked(0x10de, 0x1eb8), "T4 quirked");
	ok(!pci_bus_reset_quirked(0x10de, 0x2206), "RTX 3080 not quirked");
}

static void test_proxmox(void)
{
	struct check_result r, reset = { .verdict = VERDICT_PASS, .status = "flr" };
	struct card_user users[2] = { { .vmid = 101 }, { .vmid = 104, .running = true } };
	check_card_users(users, 0, &r);
	is_int(r.verdict, VERDICT_INFO, "no guest: INFO");
	check_card_users(users, 1, &r);
	is_int(r.verdict, VERDICT_PASS, "one guest: PASS");
	check_card_users(users, 2, &r);
	is_int(r.verdict, VERDICT_WARN, "two guests: WARN");
	is_str(r.status, "VM 101 (stopped), VM 104 (running)", "status lists the guests");
	check_card_holder(NULL, NULL, 2, &r);
	is_int(r.verdict, VERDICT_PASS, "nobody holds it: PASS");
	check_card_holder(&users[1], "reservation", 2, &r);
	is_int(r.verdict, VERDICT_INFO, "held by a VM: INFO");
	struct card_user ct = { .vmid = 200, .is_ct = true, .running = true };
	check_card_holder(&ct, "container", 1, &r);
	is_int(r.verdict, VERDICT_WARN, "held by a container while a VM uses it: WARN");
	struct pci_addr audio;
	pci_addr_parse("0000:01:00.1", true, &audio);
	check_guest_takes_card(&users[0], NULL, 0, &r);
	is_int(r.verdict, VERDICT_PASS, "guest takes every function: PASS");
	check_guest_takes_card(&users[0], &audio, 1, &r);
	is_int(r.verdict, VERDICT_FAIL, "guest leaves out the audio function: FAIL");
	ok(strstr(r.status, "0000:01:00.1") && strstr(r.hint, "hostpciN: 0000:01:00"), "names the function and the slot id to use");
	check_stopped_vm_backup(&users[0], &reset, &r);
	is_int(r.verdict, VERDICT_PASS, "stopped VM, card resets: PASS");
	reset.verdict = VERDICT_WARN;
	check_stopped_vm_backup(&users[0], &reset, &r);
	is_int(r.verdict, VERDICT_FAIL, "stopped VM, reset only WARN: FAIL");
	ok(strstr(r.what, "VM 101"), "names the VM");
	reset.verdict = VERDICT_UNKNOWN;
	check_stopped_vm_backup(&users[0], &reset, &r);
	is_int(r.verdict, VERDICT_UNKNOWN, "reset unknown without root: UNKNOWN, not FAIL");
}

int main(void)
{
	test_proxmox();
	test_reset();
	test_power();
	test_driver();
	test_siblings_group();
	test_amd_link_sriov();
	test_host();
	return tap_done();
}
