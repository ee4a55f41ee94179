/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON writer for the --json listings: one object per line
 * (JSON Lines), members in the order they are written.
 */
#ifndef _KLIPS_TOOL_JSON_H
#define _KLIPS_TOOL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH	8

struct json {
	FILE *f;
	int depth;
	bool first[JSON_DEPTH];	/* nothing written yet at this depth */
	char close[JSON_DEPTH];	/* its closing bracket */
};

void json_begin(struct json *j, FILE *f);	/* "{" */
void json_end(struct json *j);			/* "}\n" */
void json_obj(struct json *j, const char *key);	/* "key": { */
void json_arr(struct json *j, const char *key);	/* "key": [ */
void json_close(struct json *j);		/* } or ] */
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* Array elements: a NULL key. */

#endif /* _KLIPS_TOOL_JSON_H */
