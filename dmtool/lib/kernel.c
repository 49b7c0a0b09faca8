// SPDX-License-Identifier: LGPL-2.1-or-later
/* Target availability and module loading through libkmod. */
#include "kernel.h"
#include "mapper.h"

#include <errno.h>
#include <libkmod.h>
#include <string.h>

static int load_by_name(struct kmod_ctx *kmod, const char *name)
{
	struct kmod_list *list = NULL, *item;
	int r = kmod_module_new_from_lookup(kmod, name, &list);

	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;

	r = -ENOENT;
	kmod_list_foreach(item, list) {
		struct kmod_module *module = kmod_module_get_module(item);

		r = kmod_module_probe_insert_module(module, 0, NULL, NULL,
						    NULL, NULL);
		kmod_module_unref(module);
		if (r >= 0)
			break;
	}
	kmod_module_unref_list(list);
	return r;
}

static int load_from_path(struct kmod_ctx *kmod, const char *path)
{
	struct kmod_module *module = NULL;
	int r = kmod_module_new_from_path(kmod, path, &module);

	if (r < 0)
		return r;
	r = kmod_module_insert_module(module, 0, NULL);
	kmod_module_unref(module);
	return r == -EEXIST ? 0 : r;
}

int kernel_load_module(struct dmt_context *ctx, const char *module,
		       struct dmt_error *err)
{
	struct kmod_ctx *kmod = kmod_new(NULL, NULL);
	int r;

	if (!kmod)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, ENOMEM,
				"cannot initialise libkmod to load %s", module);

	log_debug(ctx, "loading kernel module %s", module);
	if (strchr(module, '/'))
		r = load_from_path(kmod, module);
	else
		r = load_by_name(kmod, module);
	kmod_unref(kmod);
	if (r < 0)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, -r,
				"loading kernel module %s failed: %s", module,
				strerror(-r));
	return DMT_OK;
}

int kernel_require_target(struct dmt_context *ctx, const char *target,
			  const char *module, struct dmt_error *err)
{
	uint32_t version[3];
	struct dmt_error load_err;

	if (mapper_target_version(ctx, target, version, NULL) == DMT_OK)
		return DMT_OK;

	if (kernel_load_module(ctx, module, &load_err) == DMT_OK &&
	    mapper_target_version(ctx, target, version, NULL) == DMT_OK)
		return DMT_OK;

	return dmt_fail(ctx, err, DMT_ERR_KERNEL, ENOENT,
			"the kernel has no '%s' device-mapper target and module %s could not be loaded; install a kernel with %s",
			target, module, module);
}
