/* HA resources, /etc/pve/ha/resources.cfg: "vm: <id>" / "ct: <id>" sections
 * with an indented "state" (default started; "ignored" = not managed). */
#include <ctype.h>
#include <string.h>

#include "macro.h"
#include "node.h"
#include "rootfs.h"
#include "strutil.h"

#define HA_FILE "/etc/pve/ha/resources.cfg"

static int apply(struct guest *g, const char *state)
{
	char *s = strdup(state);
	if (!s)
		return -ENOMEM;
	free(g->ha_state);
	g->ha_state = s;
	g->ha_managed = !streq(state, "ignored");
	return 0;
}

int node_load_ha(struct node *node)
{
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(HA_FILE, 0, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	struct guest *cur = NULL;
	unsigned lineno = 0;
	for (char *p = text, *line; (line = next_line(&p));) {
		lineno++;
		bool indented = isspace((unsigned char)*line);
		char *s = strstrip(line);
		if (*s == '#')
			continue;
		if (!*s) {
			cur = NULL;  /* a blank line ends the section */
			continue;
		}
		if (indented) {
			if (cur && startswith(s, "state") && isspace((unsigned char)s[5]) && (r = apply(cur, strstrip(s + 5))) < 0)
				return r;
			continue;
		}
		cur = NULL;
		char *colon = strchr(s, ':');
		unsigned vmid;
		if (!colon) {
			problem_add(&node->problems, HA_FILE, lineno, "invalid section header '%s'", s);
			continue;
		}
		*colon = '\0';
		if ((!streq(s, "vm") && !streq(s, "ct")) || vmid_parse(strstrip(colon + 1), &vmid) < 0)
			continue;
		cur = node_find_guest(node, vmid);
		if (cur && (r = apply(cur, "started")) < 0)
			return r;
	}
	return 0;
}
