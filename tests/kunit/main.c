// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klips KUnit tests");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
