#include <string.h>

#include "strbuf.h"
#include "vzdumpconf.h"

/* Perl's \s as parse_config uses it. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Find key and value in line l the way `^(\S+?):\s*(.*)$` does on the trimmed line. */
static int line_find_key(const char *data, struct conf_line *l)
{
	size_t a = l->start, b = l->start + l->len;
	while (a < b && is_space(data[a]))
		a++;
	while (b > a && is_space(data[b - 1]))
		b--;
	if (a == b || data[a] == '#')
		return 0;
	size_t colon = 0;
	for (size_t i = a + 1; i < b; i++) {
		if (is_space(data[i - 1]))
			return 0;
		if (data[i] == ':') {
			colon = i;
			break;
		}
	}
	if (colon == 0 || memchr(data + a, '\0', colon - a))
		return 0;
	size_t v = colon + 1;
	while (v < b && is_space(data[v]))
		v++;
	l->key = strndup(data + a, colon - a);
	if (!l->key)
		return -ENOMEM;
	l->value_start = v;
	l->value_len = b - v;
	return 0;
}

int conf_file_parse(struct conf_file *f, const char *data, size_t len)
{
	*f = (struct conf_file){ 0 };
	f->data = malloc(len + 1);
	if (!f->data)
		return -ENOMEM;
	if (len)
		memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(f->data + pos, '\n', len - pos);
		struct conf_line *l = array_push(&f->lines, &f->n_lines, &f->cap_lines, sizeof(*l));
		if (!l) {
			conf_file_release(f);
			return -ENOMEM;
		}
		l->start = pos;
		if (nl) {
			size_t end = (size_t)(nl - f->data);
			l->eol = end > pos && f->data[end - 1] == '\r' ? 2 : 1;
			l->len = end + 1 - pos - l->eol;
			pos = end + 1;
		} else {
			l->len = len - pos;
			pos = len;
		}
		if (line_find_key(f->data, l) < 0) {
			conf_file_release(f);
			return -ENOMEM;
		}
	}
	return 0;
}

void conf_file_release(struct conf_file *f)
{
	for (size_t i = 0; i < f->n_lines; i++)
		free(f->lines[i].key);
	free(f->lines);
	free(f->data);
	*f = (struct conf_file){ 0 };
}

char *conf_line_value(const struct conf_file *f, size_t i)
{
	const struct conf_line *l = &f->lines[i];
	if (!l->key)
		return NULL;
	return strndup(f->data + l->value_start, l->value_len);
}

const char *conf_file_eol(const struct conf_file *f)
{
	for (size_t i = 0; i < f->n_lines; i++)
		if (f->lines[i].eol)
			return f->lines[i].eol == 2 ? "\r\n" : "\n";
	return "\n";
}

static bool line_is(const struct conf_file *f, size_t i, const char *text)
{
	const struct conf_line *l = &f->lines[i];
	return l->len == strlen(text) && memcmp(f->data + l->start, text, l->len) == 0;
}

static bool line_value_is(const struct conf_file *f, size_t i, const char *value)
{
	const struct conf_line *l = &f->lines[i];
	return l->key && l->value_len == strlen(value) && memcmp(f->data + l->value_start, value, l->value_len) == 0;
}

/* Not blank, not a comment, and no key: vzdump warns "ignore config line". */
static bool line_is_ignored(const struct conf_file *f, size_t i)
{
	const struct conf_line *l = &f->lines[i];
	if (l->key)
		return false;
	for (size_t k = 0; k < l->len; k++) {
		char c = f->data[l->start + k];
		if (!is_space(c))
			return c != '#';
	}
	return false;
}

const char *hook_kind_to_string(enum hook_kind k)
{
	switch (k) {
	case HOOK_NONE: return "none";
	case HOOK_OURS: return "ours";
	case HOOK_OURS_ELSEWHERE: return "ours-elsewhere";
	case HOOK_OLD_BASH: return "old-bash-hook";
	case HOOK_OTHER: return "other";
	case HOOK_SEVERAL: return "several";
	}
	return "unknown";
}

enum hook_kind hook_kind_of(const char *script)
{
	if (strempty(script))
		return HOOK_NONE;
	if (streq(script, OUR_HOOK_PATH))
		return HOOK_OURS;
	const char *base = strrchr(script, '/');
	base = base ? base + 1 : script;
	if (streq(base, OLD_HOOK_NAME))
		return HOOK_OLD_BASH;
	if (streq(base, "pve-gpu-backup-hook"))
		return HOOK_OURS_ELSEWHERE;
	return HOOK_OTHER;
}

/* How one line goes into the new file. */
struct line_edit {
	bool drop;
	const char *value;     /* replace the value with this, or NULL to keep it */
};

/* Copy f with the edits, then append the lines of add (NULL-terminated). A file
 * without a final newline keeps that: appended lines go before the missing
 * newline, and taking out its last line takes the newline off the new last
 * line, so that an append followed by a removal gives the original bytes. */
static char *rebuild(const struct conf_file *f, const struct line_edit *edits,
                     const char *const *add, size_t *ret_len)
{
	struct strbuf b = { 0 };
	size_t last_eol = 0;
	bool wrote = false;
	const char *eol = conf_file_eol(f);
	bool no_final_newline = f->n_lines > 0 && f->lines[f->n_lines - 1].eol == 0;

	for (size_t i = 0; i < f->n_lines; i++) {
		const struct conf_line *l = &f->lines[i];
		if (edits[i].drop)
			continue;
		if (edits[i].value) {
			strbuf_add(&b, f->data + l->start, l->value_start - l->start);
			strbuf_adds(&b, edits[i].value);
			size_t rest = l->value_start + l->value_len;
			strbuf_add(&b, f->data + rest, l->start + l->len + l->eol - rest);
		} else
			strbuf_add(&b, f->data + l->start, l->len + l->eol);
		last_eol = l->eol;
		wrote = true;
	}
	if (no_final_newline && edits[f->n_lines - 1].drop && wrote && last_eol > 0 && !b.oom) {
		b.len -= last_eol;
		b.p[b.len] = '\0';
	}

	if (add && add[0]) {
		/* a last line ending in a lone CR gets CRLF, so that taking the
		 * newline off again leaves that CR */
		if (wrote && !b.oom && b.len > 0 && b.p[b.len - 1] != '\n')
			strbuf_adds(&b, b.p[b.len - 1] == '\r' ? "\r\n" : eol);
		for (size_t k = 0; add[k]; k++) {
			strbuf_adds(&b, add[k]);
			if (add[k + 1] || !no_final_newline)
				strbuf_adds(&b, eol);
		}
	}
	return strbuf_steal(&b, ret_len);
}

static bool edits_change(const struct conf_file *f, const struct line_edit *edits, const char *const *add)
{
	if (add && add[0])
		return true;
	for (size_t i = 0; i < f->n_lines; i++)
		if (edits[i].drop || edits[i].value)
			return true;
	return false;
}

void setup_plan_release(struct setup_plan *p)
{
	free(p->effective_script);
	free(p->ignored_lines);
	for (size_t i = 0; i < p->n_dropped; i++)
		free(p->dropped[i]);
	free(p->dropped);
	free(p->chain);
	free(p->old_chain);
	free(p->new_vzdump);
	free(p->new_hook_conf);
	*p = (struct setup_plan){ 0 };
}

struct planner {
	struct conf_file vz, hc;
	struct line_edit *vz_edits, *hc_edits;
	size_t *scripts;       /* indexes of script: lines in vz */
	size_t n_scripts;
	size_t *chains;        /* indexes of chain: lines in hc */
	size_t n_chains;
};

static void planner_release(struct planner *pl)
{
	conf_file_release(&pl->vz);
	conf_file_release(&pl->hc);
	free(pl->vz_edits);
	free(pl->hc_edits);
	free(pl->scripts);
	free(pl->chains);
}

static int collect_key(const struct conf_file *f, const char *key, size_t **ret, size_t *ret_n)
{
	size_t cap = 0;
	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; i < f->n_lines; i++) {
		if (!streq(f->lines[i].key, key))
			continue;
		size_t *slot = array_push(ret, ret_n, &cap, sizeof(size_t));
		if (!slot)
			return -ENOMEM;
		*slot = i;
	}
	return 0;
}

static int planner_init(struct planner *pl, const char *vzdump, size_t vzdump_len,
                        const char *hook_conf, size_t hook_conf_len)
{
	*pl = (struct planner){ 0 };
	if (conf_file_parse(&pl->vz, vzdump ? vzdump : "", vzdump_len) < 0 ||
	    conf_file_parse(&pl->hc, hook_conf ? hook_conf : "", hook_conf_len) < 0)
		return -ENOMEM;
	pl->vz_edits = calloc(pl->vz.n_lines + 1, sizeof(struct line_edit));
	pl->hc_edits = calloc(pl->hc.n_lines + 1, sizeof(struct line_edit));
	if (!pl->vz_edits || !pl->hc_edits)
		return -ENOMEM;
	if (collect_key(&pl->vz, "script", &pl->scripts, &pl->n_scripts) < 0 ||
	    collect_key(&pl->hc, "chain", &pl->chains, &pl->n_chains) < 0)
		return -ENOMEM;
	return 0;
}

/* The chain: the hook config sets today (the last one), or NULL. */
static char *current_chain(const struct planner *pl)
{
	return pl->n_chains ? conf_line_value(&pl->hc, pl->chains[pl->n_chains - 1]) : NULL;
}

static int plan_apply(struct planner *pl, struct setup_plan *p)
{
	static const char *const append_script[] = { OUR_COMMENT, "script: " OUR_HOOK_PATH, NULL };
	const char *const *vz_add = NULL, *const *hc_add = NULL;
	const char *hc_append[3] = { OUR_CHAIN_COMMENT, NULL, NULL };
	_cleanup_free_ char *chain_line = NULL;
	size_t cap_dropped = 0;

	if (pl->n_scripts == 0) {
		vz_add = append_script;
	} else {
		size_t last = pl->scripts[pl->n_scripts - 1];
		for (size_t k = 0; k + 1 < pl->n_scripts; k++) {
			char *v = conf_line_value(&pl->vz, pl->scripts[k]);
			char **slot = v ? array_push(&p->dropped, &p->n_dropped, &cap_dropped, sizeof(char *)) : NULL;
			if (!slot) {
				free(v);
				return -ENOMEM;
			}
			*slot = v;
			pl->vz_edits[pl->scripts[k]].drop = true;
		}
		if (p->effective_kind != HOOK_OURS)
			pl->vz_edits[last].value = OUR_HOOK_PATH;
		if (p->effective_kind == HOOK_OTHER) {
			p->chain = strdup(p->effective_script);
			if (!p->chain)
				return -ENOMEM;
		}
	}

	if (p->chain) {
		_cleanup_free_ char *cur = current_chain(pl);
		if (!streq(cur, p->chain)) {
			if (cur) {
				p->old_chain = TAKE_PTR(cur);
				for (size_t k = 0; k + 1 < pl->n_chains; k++)
					pl->hc_edits[pl->chains[k]].drop = true;
				pl->hc_edits[pl->chains[pl->n_chains - 1]].value = p->chain;
			} else {
				if (asprintf(&chain_line, "chain: %s", p->chain) < 0) {
					chain_line = NULL;
					return -ENOMEM;
				}
				hc_append[1] = chain_line;
				hc_add = hc_append;
			}
		}
	}

	p->vzdump_changes = edits_change(&pl->vz, pl->vz_edits, vz_add);
	if (p->vzdump_changes) {
		p->new_vzdump = rebuild(&pl->vz, pl->vz_edits, vz_add, &p->new_vzdump_len);
		if (!p->new_vzdump)
			return -ENOMEM;
	}
	p->hook_conf_changes = edits_change(&pl->hc, pl->hc_edits, hc_add);
	if (p->hook_conf_changes) {
		p->new_hook_conf = rebuild(&pl->hc, pl->hc_edits, hc_add, &p->new_hook_conf_len);
		if (!p->new_hook_conf)
			return -ENOMEM;
	}
	return 0;
}

static int plan_remove(struct planner *pl, struct setup_plan *p)
{
	size_t last_ours = (size_t)-1;
	for (size_t k = 0; k < pl->n_scripts; k++)
		if (line_value_is(&pl->vz, pl->scripts[k], OUR_HOOK_PATH))
			last_ours = pl->scripts[k];
	if (last_ours == (size_t)-1)
		return 0;

	p->chain = current_chain(pl);
	for (size_t k = 0; k < pl->n_scripts; k++) {
		size_t i = pl->scripts[k];
		if (!line_value_is(&pl->vz, i, OUR_HOOK_PATH))
			continue;
		if (i == last_ours && p->chain) {
			pl->vz_edits[i].value = p->chain;
			continue;
		}
		pl->vz_edits[i].drop = true;
		if (i > 0 && line_is(&pl->vz, i - 1, OUR_COMMENT))
			pl->vz_edits[i - 1].drop = true;
	}
	for (size_t k = 0; k < pl->n_chains; k++) {
		size_t i = pl->chains[k];
		pl->hc_edits[i].drop = true;
		if (i > 0 && line_is(&pl->hc, i - 1, OUR_CHAIN_COMMENT))
			pl->hc_edits[i - 1].drop = true;
	}

	p->vzdump_changes = true;
	p->new_vzdump = rebuild(&pl->vz, pl->vz_edits, NULL, &p->new_vzdump_len);
	if (!p->new_vzdump)
		return -ENOMEM;
	p->hook_conf_changes = edits_change(&pl->hc, pl->hc_edits, NULL);
	if (p->hook_conf_changes) {
		p->new_hook_conf = rebuild(&pl->hc, pl->hc_edits, NULL, &p->new_hook_conf_len);
		if (!p->new_hook_conf)
			return -ENOMEM;
		p->hook_conf_delete = p->new_hook_conf_len == 0;
	}
	return 0;
}

int setup_plan_make(enum setup_action action,
                    const char *vzdump, size_t vzdump_len,
                    const char *hook_conf, size_t hook_conf_len,
                    struct setup_plan *ret)
{
	struct setup_plan p = { 0 };
	struct planner pl;
	int r = planner_init(&pl, vzdump, vzdump_len, hook_conf, hook_conf_len);
	if (r < 0)
		goto out;

	p.n_script_lines = pl.n_scripts;
	size_t cap_ignored = 0;
	for (size_t i = 0; i < pl.vz.n_lines; i++) {
		p.n_mode_lines += streq(pl.vz.lines[i].key, "mode");
		if (line_is_ignored(&pl.vz, i)) {
			unsigned *slot = array_push(&p.ignored_lines, &p.n_ignored_lines, &cap_ignored, sizeof(unsigned));
			if (!slot) {
				r = -ENOMEM;
				goto out;
			}
			*slot = (unsigned)(i + 1);
		}
	}
	if (pl.n_scripts > 0) {
		size_t last = pl.scripts[pl.n_scripts - 1];
		p.effective_script = conf_line_value(&pl.vz, last);
		if (!p.effective_script) {
			r = -ENOMEM;
			goto out;
		}
		p.effective_line = (unsigned)(last + 1);
		p.effective_kind = hook_kind_of(p.effective_script);
	}
	p.kind = pl.n_scripts > 1 ? HOOK_SEVERAL : p.effective_kind;

	r = action == SETUP_APPLY ? plan_apply(&pl, &p) : plan_remove(&pl, &p);
out:
	planner_release(&pl);
	if (r < 0)
		setup_plan_release(&p);
	else
		*ret = p;
	return r;
}
