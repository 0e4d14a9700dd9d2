/*
 * kube-yaml.c - YAML (kubeconfig, job templates) into jansson trees, over
 * libyaml's event parser.
 */
#include <errno.h>
#include <yaml.h>

#include "backend/kube-int.h"
#include "util/vec.h"

/* Deeper than any kubeconfig or template: a bound against hostile input. */
#define KUBE_YAML_MAX_DEPTH 64

struct kube_yaml_frame {
	json_t *node; /* object or array being filled */
	char *key;    /* an object's pending key, or NULL */
};

static int
kube_yaml_error(const char *what, const yaml_mark_t *m, const char *msg,
    struct buf *err)
{
	return err_set(err, ERR_INVALID, "%s: line %zu, column %zu: %s", what,
	    m->line + 1, m->column + 1, msg);
}

/* YAML 1.2 core schema for a plain scalar. */
static json_t *
kube_yaml_plain(const char *s, size_t len)
{
	char *end;
	long long ll;
	double d;

	if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return json_false();
	if ((s[0] >= '0' && s[0] <= '9') ||
	    ((s[0] == '-' || s[0] == '+') && s[1] >= '0' && s[1] <= '9')) {
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (*end == '\0' && errno == 0)
			return json_integer(ll);
		errno = 0;
		d = strtod(s, &end);
		if (*end == '\0' && errno == 0 && strpbrk(s, "xXpP") == NULL)
			return json_real(d);
	}
	return json_stringn(s, len);
}

/* Attach a finished value to its parent (or make it the result). */
static int
kube_yaml_attach(struct kube_yaml_frame *stack, size_t depth, json_t *v,
    json_t **root, const char *what, const yaml_mark_t *m, struct buf *err)
{
	struct kube_yaml_frame *top;

	if (v == NULL)
		return kube_yaml_error(what, m, "not valid UTF-8", err);
	if (depth == 0) {
		*root = v;
		return 0;
	}
	top = &stack[depth - 1];
	if (json_is_array(top->node)) {
		json_array_append_new(top->node, v);
		return 0;
	}
	if (top->key == NULL) {
		json_decref(v);
		return kube_yaml_error(what, m,
		    "a mapping key must be a scalar", err);
	}
	if (json_object_get(top->node, top->key) != NULL) {
		json_decref(v);
		err_set(err, ERR_INVALID, "%s: line %zu: duplicate key '%s'",
		    what, m->line + 1, top->key);
		return ERR_INVALID;
	}
	json_object_set_new(top->node, top->key, v);
	free(top->key);
	top->key = NULL;
	return 0;
}

int
kube_yaml_parse(const char *text, size_t len, const char *what, json_t **out,
    struct buf *err)
{
	struct kube_yaml_frame stack[KUBE_YAML_MAX_DEPTH];
	yaml_parser_t parser;
	yaml_event_t ev;
	json_t *root = NULL, *v;
	size_t depth = 0, i, ndocs = 0;
	const char *s;
	bool done = false;
	int ret = ERR_INVALID;

	*out = NULL;
	if (!yaml_parser_initialize(&parser))
		BUG("yaml_parser_initialize");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			err_set(err, ERR_INVALID,
			    "%s: line %zu, column %zu: %s", what,
			    parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "syntax error");
			goto out;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				kube_yaml_error(what, &ev.start_mark,
				    "more than one document", err);
				goto fail_event;
			}
			break;
		case YAML_ALIAS_EVENT:
			kube_yaml_error(what, &ev.start_mark,
			    "aliases are not supported", err);
			goto fail_event;
		case YAML_SCALAR_EVENT:
			if (ev.data.scalar.anchor != NULL ||
			    (ev.data.scalar.tag != NULL &&
			        !ev.data.scalar.quoted_implicit &&
			        !ev.data.scalar.plain_implicit)) {
				kube_yaml_error(what, &ev.start_mark,
				    "anchors and tags are not supported", err);
				goto fail_event;
			}
			s = (const char *)ev.data.scalar.value;
			/* A pending mapping key. */
			if (depth > 0 &&
			    json_is_object(stack[depth - 1].node) &&
			    stack[depth - 1].key == NULL) {
				stack[depth - 1].key =
				    xstrndup(s, ev.data.scalar.length);
				break;
			}
			if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				v = kube_yaml_plain(s, ev.data.scalar.length);
			else
				v = json_stringn(s, ev.data.scalar.length);
			if (kube_yaml_attach(stack, depth, v, &root, what,
			        &ev.start_mark, err) < 0)
				goto fail_event;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == KUBE_YAML_MAX_DEPTH) {
				kube_yaml_error(what, &ev.start_mark,
				    "nested too deeply", err);
				goto fail_event;
			}
			if ((ev.type == YAML_MAPPING_START_EVENT
			            ? ev.data.mapping_start.anchor
			            : ev.data.sequence_start.anchor) != NULL) {
				kube_yaml_error(what, &ev.start_mark,
				    "anchors are not supported", err);
				goto fail_event;
			}
			if (depth > 0 &&
			    json_is_object(stack[depth - 1].node) &&
			    stack[depth - 1].key == NULL) {
				kube_yaml_error(what, &ev.start_mark,
				    "a mapping key must be a scalar", err);
				goto fail_event;
			}
			stack[depth].node = ev.type == YAML_MAPPING_START_EVENT
			    ? json_object()
			    : json_array();
			stack[depth].key = NULL;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			v = stack[depth].node;
			free(stack[depth].key);
			if (kube_yaml_attach(stack, depth, v, &root, what,
			        &ev.start_mark, err) < 0)
				goto fail_event;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (root == NULL) {
		err_set(err, ERR_INVALID, "%s: empty", what);
		goto out;
	}
	*out = root;
	root = NULL;
	ret = 0;
	goto out;
fail_event:
	yaml_event_delete(&ev);
out:
	for (i = 0; i < depth; i++) {
		json_decref(stack[i].node);
		free(stack[i].key);
	}
	json_decref(root);
	yaml_parser_delete(&parser);
	return ret;
}
