/* xml: parsing the servers' XML answers through libxml2 (see xml.h).
 * Must never let the parser touch the network or print to the terminal. */
#include "sync/remote/xml.h"
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	xmlInitParser(); /* libxml2 2.9 wants this once before threads use the parser */
}

xmlDoc *xml_parse(const struct buf *b, const char *top_name, xmlNode **top)
{
	pthread_once(&init_once, init);
	*top = NULL;
	if (b->len == 0 || b->len > INT_MAX)
		return NULL;
	xmlDoc *doc = xmlReadMemory((const char *)b->data, (int)b->len, "answer.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *n = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!xml_is(n, top_name)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	*top = n;
	return doc;
}

bool xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNode *xml_child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (xml_is(c, name))
			return c;
	return NULL;
}

char *xml_text(xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = t ? strdup((const char *)t) : NULL;
	xmlFree(t);
	return s;
}

bool xml_text_is(xmlNode *n, const char *v)
{
	char *t = xml_text(n);
	bool eq = t && strcmp(t, v) == 0;
	free(t);
	return eq;
}
