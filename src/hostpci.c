/* One hostpciN value, qemu-server PCI.pm $hostpci_fmt / parse_hostpci:
 * "[host=]ID[;ID...][,key=value...]" or "mapping=NAME[,...]". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "strutil.h"
#include "vmconf.h"

static int prop_push(struct hostpci *h, size_t *cap, const char *key, size_t key_len, const char *value)
{
	struct prop *p = array_push(&h->opts, &h->n_opts, cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->key = strndup(key, key_len);
	p->value = strdup(value);
	return p->key && p->value ? 0 : -ENOMEM;
}

/* host=ID[;ID...]: one device set, each id in qemu-server's $PCIRE. */
static int parse_host_list(struct hostpci *h, const char *list, char **ret_error)
{
	size_t cap = 0;
	for (const char *s = list;;) {
		size_t n = strcspn(s, ";");
		struct pci_addr a;
		if (pci_addr_parse_n(s, n, false, &a) < 0) {
			if (asprintf(ret_error, "invalid PCI id '%.*s'", (int)n, s) < 0)
				*ret_error = NULL;
			return -EINVAL;
		}
		struct pci_addr *slot = array_push(&h->host, &h->n_host, &cap, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		*slot = a;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

_printf_(2, 3) static int hostpci_fail(char **ret_error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(ret_error, fmt, ap) < 0)
		*ret_error = NULL;
	va_end(ap);
	return -EINVAL;
}

int hostpci_parse(const char *value, unsigned index, struct hostpci *ret, char **ret_error)
{
	struct hostpci h = { .index = index };
	size_t cap = 0;
	int r;

	*ret_error = NULL;
	h.value = strdup(value);
	_cleanup_free_ char *copy = strdup(value);
	if (!h.value || !copy) {
		r = -ENOMEM;
		goto fail;
	}
	/* JSONSchema parse_property_string: empty parts (",,") are skipped; a part
	 * without '=' is the default key 'host' when that is not set yet. */
	for (char *save = NULL, *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		part = strstrip(part);
		if (!*part)
			continue;
		char *eq = strchr(part, '=');
		const char *key = "host", *val = part;
		size_t key_len = 4;
		if (eq && eq[1]) {
			key = part;
			key_len = (size_t)(eq - part);
			val = eq + 1;
		} else if (eq || h.n_host > 0 || h.mapping) {
			r = hostpci_fail(ret_error, "missing key in comma-separated list property '%s'", part);
			goto fail;
		}
		for (size_t i = 0; i < h.n_opts; i++)
			if (strlen(h.opts[i].key) == key_len && strncmp(h.opts[i].key, key, key_len) == 0) {
				_cleanup_free_ char *k = strndup(key, key_len);
				r = hostpci_fail(ret_error, "duplicate key '%s'", k ? k : "?");
				goto fail;
			}
		r = prop_push(&h, &cap, key, key_len, val);
		if (r < 0)
			goto fail;
		const char *k = h.opts[h.n_opts - 1].key;
		if (streq(k, "host")) {
			if (h.mapping) {
				r = hostpci_fail(ret_error, "%s", "cannot set both 'host' and 'mapping'");
				goto fail;
			}
			r = parse_host_list(&h, val, ret_error);
			if (r < 0)
				goto fail;
		} else if (streq(k, "mapping")) {
			if (h.n_host > 0) {
				r = hostpci_fail(ret_error, "%s", "cannot set both 'host' and 'mapping'");
				goto fail;
			}
			h.mapping = strdup(val);
			if (!h.mapping) {
				r = -ENOMEM;
				goto fail;
			}
		} else if (streq(k, "mdev")) {
			h.mdev = strdup(val);
			if (!h.mdev) {
				r = -ENOMEM;
				goto fail;
			}
		}
	}
	if (h.n_host == 0 && !h.mapping) {
		r = hostpci_fail(ret_error, "%s", "either 'host' or 'mapping' must be set");
		goto fail;
	}
	*ret = h;
	return 0;
fail:
	if (r == -ENOMEM && !*ret_error)
		*ret_error = strdup("out of memory");
	hostpci_release(&h);
	return r;
}

void hostpci_release(struct hostpci *h)
{
	free(h->value);
	free(h->host);
	free(h->mapping);
	free(h->mdev);
	for (size_t i = 0; i < h->n_opts; i++) {
		free(h->opts[i].key);
		free(h->opts[i].value);
	}
	free(h->opts);
	*h = (struct hostpci){ 0 };
}
