/* Building a struct guest from a parsed config (internal to the node model). */
#pragma once

#include "node.h"

int guest_from_vm(struct node *node, const struct vm_config *c, const char *file, struct guest *ret);
int guest_from_ct(struct node *node, const struct lxc_config *c, const char *file, struct guest *ret);
void guest_release(struct guest *g);
