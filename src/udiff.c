#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "strbuf.h"
#include "udiff.h"

#define CONTEXT 3
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
/* Above this many cells the middle is shown as replaced whole (config files never get there). */
#define MAX_CELLS (4u << 20)

struct span {
	const char *p;
	size_t len;     /* with the line ending */
};

struct op {
	char kind;      /* ' ', '-', '+' */
	size_t old_i, new_i;
};

static int split_lines(const char *s, size_t len, struct span **ret, size_t *ret_n)
{
	struct span *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - s) + 1 : len;
		struct span *sp = array_push(&v, &n, &cap, sizeof(*sp));
		if (!sp) {
			free(v);
			return -ENOMEM;
		}
		*sp = (struct span){ s + pos, end - pos };
		pos = end;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool span_eq(const struct span *a, const struct span *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static int push_op(struct op **ops, size_t *n, size_t *cap, char kind, size_t oi, size_t ni)
{
	struct op *o = array_push(ops, n, cap, sizeof(*o));
	if (!o)
		return -ENOMEM;
	*o = (struct op){ kind, oi, ni };
	return 0;
}

/* Longest common subsequence of the middle part, after trimming equal ends. */
static int diff_ops(const struct span *a, size_t na, const struct span *b, size_t nb,
                    struct op **ret, size_t *ret_n)
{
	struct op *ops = NULL;
	size_t n = 0, cap = 0, pre = 0, suf = 0;
	int r = 0;
	while (pre < na && pre < nb && span_eq(&a[pre], &b[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && span_eq(&a[na - 1 - suf], &b[nb - 1 - suf]))
		suf++;
	size_t ma = na - pre - suf, mb = nb - pre - suf;
	_cleanup_free_ uint32_t *t = NULL;
	if (ma && mb && (ma + 1) * (mb + 1) <= MAX_CELLS) {
		t = calloc((ma + 1) * (mb + 1), sizeof(uint32_t));
		if (!t)
			return -ENOMEM;
		/* t[i][j] = LCS length of a[pre+i..] and b[pre+j..] */
		for (size_t i = ma; i-- > 0;)
			for (size_t j = mb; j-- > 0;)
				t[i * (mb + 1) + j] = span_eq(&a[pre + i], &b[pre + j])
					? t[(i + 1) * (mb + 1) + j + 1] + 1
					: MAX(t[(i + 1) * (mb + 1) + j], t[i * (mb + 1) + j + 1]);
	}
	for (size_t k = 0; k < pre && r == 0; k++)
		r = push_op(&ops, &n, &cap, ' ', k, k);
	size_t i = 0, j = 0;
	while (r == 0 && (i < ma || j < mb)) {
		if (t && i < ma && j < mb && span_eq(&a[pre + i], &b[pre + j])) {
			r = push_op(&ops, &n, &cap, ' ', pre + i, pre + j);
			i++, j++;
		} else if (i < ma && (j == mb || !t || t[(i + 1) * (mb + 1) + j] >= t[i * (mb + 1) + j + 1])) {
			r = push_op(&ops, &n, &cap, '-', pre + i, pre + j);
			i++;
		} else {
			r = push_op(&ops, &n, &cap, '+', pre + i, pre + j);
			j++;
		}
	}
	for (size_t k = 0; k < suf && r == 0; k++)
		r = push_op(&ops, &n, &cap, ' ', na - suf + k, nb - suf + k);
	if (r < 0) {
		free(ops);
		return r;
	}
	*ret = ops;
	*ret_n = n;
	return 0;
}

static void emit_line(struct strbuf *b, char kind, const struct span *s)
{
	strbuf_add(b, &kind, 1);
	strbuf_add(b, s->p, s->len);
	if (s->len == 0 || s->p[s->len - 1] != '\n')
		strbuf_adds(b, "\n\\ No newline at end of file\n");
}

int unified_diff(const char *old, size_t old_len, const char *new, size_t new_len,
                 const char *old_label, const char *new_label, char **ret)
{
	_cleanup_free_ struct span *a = NULL, *b = NULL;
	_cleanup_free_ struct op *ops = NULL;
	size_t na, nb, n;
	struct strbuf out = { 0 };

	if (split_lines(old, old_len, &a, &na) < 0 || split_lines(new, new_len, &b, &nb) < 0 ||
	    diff_ops(a, na, b, nb, &ops, &n) < 0)
		return -ENOMEM;

	bool header = false;
	for (size_t k = 0; k < n;) {
		if (ops[k].kind == ' ') {
			k++;
			continue;
		}
		/* A hunk: CONTEXT lines before the change, and on until CONTEXT*2+1 equal lines in a row. */
		size_t start = k > CONTEXT ? k - CONTEXT : 0, end = k;
		for (size_t same = 0; end < n; end++) {
			same = ops[end].kind == ' ' ? same + 1 : 0;
			if (same > 2 * CONTEXT)
				break;
		}
		size_t last_change = end;
		while (last_change > k && ops[last_change - 1].kind == ' ')
			last_change--;
		end = MIN(n, last_change + CONTEXT);

		size_t oc = 0, nc = 0;
		for (size_t q = start; q < end; q++) {
			oc += ops[q].kind != '+';
			nc += ops[q].kind != '-';
		}
		size_t os = ops[start].old_i + (oc ? 1 : 0), ns = ops[start].new_i + (nc ? 1 : 0);
		if (!header) {
			strbuf_adds(&out, "--- ");
			strbuf_adds(&out, old_label);
			strbuf_adds(&out, "\n+++ ");
			strbuf_adds(&out, new_label);
			strbuf_adds(&out, "\n");
			header = true;
		}
		char h[96];
		/* GNU diff leaves out a count of 1 */
		if (oc == 1)
			snprintf(h, sizeof(h), "@@ -%zu", os);
		else
			snprintf(h, sizeof(h), "@@ -%zu,%zu", os, oc);
		strbuf_adds(&out, h);
		if (nc == 1)
			snprintf(h, sizeof(h), " +%zu @@\n", ns);
		else
			snprintf(h, sizeof(h), " +%zu,%zu @@\n", ns, nc);
		strbuf_adds(&out, h);
		for (size_t q = start; q < end; q++)
			emit_line(&out, ops[q].kind, ops[q].kind == '+' ? &b[ops[q].new_i] : &a[ops[q].old_i]);
		k = end;
	}
	*ret = strbuf_steal(&out, NULL);
	return *ret ? 0 : -ENOMEM;
}
