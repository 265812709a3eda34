#include <dirent.h>
#include <string.h>

#include "pci_addr.h"
#include "rootfs.h"

static int hexval(char c)
{
	/* Proxmox matches its pattern case-sensitively: uppercase is rejected. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_hex(const char *s, size_t n, uint32_t *ret)
{
	uint32_t v = 0;
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0 || v > (UINT32_MAX >> 4))
			return -EINVAL;
		v = (v << 4) | (uint32_t)h;
	}
	*ret = v;
	return 0;
}

int pci_addr_parse_n(const char *s, size_t n, bool require_domain, struct pci_addr *ret)
{
	struct pci_addr a = { 0 };
	uint32_t v;
	const char *end = s + n;

	/* Split on ':' from the right: [domain:]bus:slot[.func] */
	const char *c2 = NULL, *c1 = NULL;
	for (const char *p = s; p < end; p++)
		if (*p == ':') {
			c1 = c2;
			c2 = p;
		}
	if (!c2)
		return -EINVAL;
	const char *bus_start = c1 ? c1 + 1 : s;
	if (c1) {
		/* domain: 4 or more hex digits, and no further ':' before it */
		if (c1 - s < 4 || memchr(s, ':', (size_t)(c1 - s)))
			return -EINVAL;
		if (parse_hex(s, (size_t)(c1 - s), &v) < 0)
			return -EINVAL;
		a.domain = v;
	} else if (require_domain)
		return -EINVAL;

	if (c2 - bus_start != 2 || parse_hex(bus_start, 2, &v) < 0)
		return -EINVAL;
	a.bus = (uint8_t)v;

	const char *slot = c2 + 1;
	const char *dot = memchr(slot, '.', (size_t)(end - slot));
	const char *slot_end = dot ? dot : end;
	if (slot_end - slot != 2 || parse_hex(slot, 2, &v) < 0 || v > 0x1f)
		return -EINVAL;
	a.slot = (uint8_t)v;
	if (dot) {
		if (end - dot != 2 || parse_hex(dot + 1, 1, &v) < 0 || v > 7)
			return -EINVAL;
		a.func = (uint8_t)v;
		a.has_func = true;
	}
	*ret = a;
	return 0;
}

int pci_addr_parse(const char *s, bool require_domain, struct pci_addr *ret)
{
	return pci_addr_parse_n(s, strlen(s), require_domain, ret);
}

char *pci_addr_format(const struct pci_addr *a, char buf[static PCI_ADDR_STRLEN])
{
	if (a->has_func)
		snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot, a->func);
	else
		snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x", a->domain, a->bus, a->slot);
	return buf;
}

bool pci_addr_same_slot(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b)
{
	return pci_addr_same_slot(a, b) && a->has_func == b->has_func && (!a->has_func || a->func == b->func);
}

bool pci_addr_overlaps(const struct pci_addr *a, const struct pci_addr *b)
{
	if (!pci_addr_same_slot(a, b))
		return false;
	if (!a->has_func || !b->has_func)
		return true;
	return a->func == b->func;
}

int pci_addr_compare(const struct pci_addr *a, const struct pci_addr *b)
{
#define CMP(x) if (a->x != b->x) return a->x < b->x ? -1 : 1
	CMP(domain);
	CMP(bus);
	CMP(slot);
	CMP(has_func);
	CMP(func);
#undef CMP
	return 0;
}

static int cmp_addr(const void *x, const void *y)
{
	return pci_addr_compare(x, y);
}

int pci_addr_expand(const struct pci_addr *a, struct pci_addr **ret)
{
	struct pci_addr *out = NULL;
	size_t n = 0, cap = 0;

	if (!a->has_func) {
		_cleanup_free_ char *dir = root_path("/sys/bus/pci/devices");
		DIR *d = dir ? opendir(dir) : NULL;
		if (d) {
			struct dirent *de;
			while ((de = readdir(d))) {
				struct pci_addr f;
				if (pci_addr_parse(de->d_name, true, &f) < 0 || !f.has_func || !pci_addr_same_slot(a, &f))
					continue;
				struct pci_addr *slot = array_push(&out, &n, &cap, sizeof(*slot));
				if (!slot) {
					closedir(d);
					free(out);
					return -ENOMEM;
				}
				*slot = f;
			}
			closedir(d);
		}
		if (n > 1)
			qsort(out, n, sizeof(*out), cmp_addr);
	}
	if (n == 0) {
		out = malloc(sizeof(*out));
		if (!out)
			return -ENOMEM;
		out[0] = *a;
		n = 1;
	}
	*ret = out;
	return (int)n;
}
