/* Node policy for rebind: which functions running VMs hold (see rebind.h). */
#include "node.h"
#include "rebind.h"

int rebind_holders_from_node(const struct node *node, struct rebind_holder **ret, size_t *ret_n)
{
	struct holder *all = NULL;
	size_t n_all = 0, n = 0, cap = 0;
	struct rebind_holder *list = NULL;

	int r = node_holders(node, &all, &n_all);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_all; i++) {
		if (all[i].type != GUEST_QEMU)
			continue;
		struct rebind_holder *h = array_push(&list, &n, &cap, sizeof(*h));
		if (!h) {
			free(all);
			free(list);
			return -ENOMEM;
		}
		*h = (struct rebind_holder){ .addr = all[i].addr, .vmid = all[i].vmid };
	}
	free(all);
	*ret = list;
	*ret_n = n;
	return 0;
}
