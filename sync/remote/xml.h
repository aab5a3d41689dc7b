/* xml: the one helper over libxml2 for the XML the servers answer (S3 ListObjectsV2 pages,
 * WebDAV PROPFIND multistatus): parse a body without network access, find child elements by
 * local name, read their text.
 * Must never fetch anything a document names (no DTDs, no entities from the network). */
#ifndef COFFER_REMOTE_XML_H
#define COFFER_REMOTE_XML_H
#include <stdbool.h>
#include <libxml/tree.h>
#include "lib/buf.h"

/* Parses b; returns the document with *top its root element when that element's local name is
 * top_name, else NULL (malformed, empty or another kind of document). Free with xmlFreeDoc. */
xmlDoc *xml_parse(const struct buf *b, const char *top_name, xmlNode **top);
/* Whether n is an element with this local name. */
bool xml_is(const xmlNode *n, const char *name);
/* The first child element of n (NULL is fine) with this local name, or NULL. */
xmlNode *xml_child(xmlNode *n, const char *name);
/* The text of n (NULL is fine) as a new string, or NULL; free with free(). */
char *xml_text(xmlNode *n);
/* Whether the text of n is exactly v. */
bool xml_text_is(xmlNode *n, const char *v);

#endif
