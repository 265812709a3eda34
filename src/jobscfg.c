#include <string.h>

#include "vzdumpconf.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

void backup_jobs_free(struct backup_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].id);
		free(jobs[i].script);
	}
	free(jobs);
}

/* Section config as pve-common's SectionConfig reads it: a header
 * `type: id` at the start of a line, indented `key value` lines, an empty line
 * (or the next header) ends the section, `#` lines are comments. */
int jobs_cfg_scripts(const char *data, size_t len, struct backup_job **ret, size_t *ret_n)
{
	struct backup_job *jobs = NULL;
	size_t n = 0, cap = 0;
	_cleanup_free_ char *section_id = NULL;
	bool in_vzdump = false;
	unsigned lineno = 0;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t a = pos, b = end;
		pos = nl ? end + 1 : len;
		lineno++;
		if (a == b) {
			/* only a truly empty line ends a section, as in SectionConfig */
			in_vzdump = false;
			continue;
		}
		while (b > a && is_blank(data[b - 1]))
			b--;
		if (a == b)
			continue;
		if (data[a] == '#')
			continue;
		if (!is_blank(data[a])) {
			/* header: `<type>: <id>` */
			const char *colon = memchr(data + a, ':', b - a);
			free(section_id);
			section_id = NULL;
			in_vzdump = colon && (size_t)(colon - (data + a)) == 6 && memcmp(data + a, "vzdump", 6) == 0;
			if (in_vzdump) {
				size_t i = (size_t)(colon - data) + 1;
				while (i < b && is_blank(data[i]))
					i++;
				section_id = strndup(data + i, b - i);
				if (!section_id)
					goto oom;
			}
			continue;
		}
		if (!in_vzdump)
			continue;
		while (a < b && is_blank(data[a]))
			a++;
		size_t k = a;
		while (k < b && !is_blank(data[k]))
			k++;
		if (k - a != 6 || memcmp(data + a, "script", 6) != 0)
			continue;
		while (k < b && is_blank(data[k]))
			k++;
		struct backup_job *j = array_push(&jobs, &n, &cap, sizeof(*j));
		if (!j)
			goto oom;
		j->id = strdup(section_id);
		j->script = strndup(data + k, b - k);
		j->line = lineno;
		if (!j->id || !j->script)
			goto oom;
	}
	*ret = jobs;
	*ret_n = n;
	return 0;
oom:
	backup_jobs_free(jobs, n);
	return -ENOMEM;
}
