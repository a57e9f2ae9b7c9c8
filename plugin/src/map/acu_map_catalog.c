/* acu_map_catalog.c - the entity catalogue of one endpoint version:
 * entities, their fields and types, keys and last-modified field, read from
 * the project's own data (mappings/catalog/<version>.json, generated from
 * the contract by tools/gen_catalog.py and embedded in the plugin). */
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

struct acu_map_catalog {
    json_object *entities; /* borrowed from the document */
};

acu_map_catalog *acu_map_catalog_new(json_object *doc)
{
    acu_map_catalog *c;
    json_object *ents;

    if (!json_object_object_get_ex(doc, "entities", &ents) ||
        !json_object_is_type(ents, json_type_object))
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->entities = ents;
    return c;
}

void acu_map_catalog_free(acu_map_catalog *c)
{
    free(c);
}

static json_object *entity(const acu_map_catalog *c, const char *name)
{
    json_object *e;

    if (c == NULL || name == NULL ||
        !json_object_object_get_ex(c->entities, name, &e))
        return NULL;
    return e;
}

static json_object *fields_of(const acu_map_catalog *c, const char *name)
{
    json_object *e = entity(c, name), *f;

    if (e == NULL || !json_object_object_get_ex(e, "fields", &f))
        return NULL;
    return f;
}

int acu_map_catalog_has_entity(const acu_map_catalog *c, const char *name)
{
    return entity(c, name) != NULL;
}

int acu_map_catalog_is_top_level(const acu_map_catalog *c, const char *name)
{
    json_object *e = entity(c, name), *t;

    return e != NULL && json_object_object_get_ex(e, "top_level", &t) &&
           json_object_get_boolean(t);
}

static acu_ftype scalar(const char *t)
{
    static const struct {
        const char *name;
        acu_ftype type;
    } map[] = {
        {"string", ACU_FT_STRING}, {"decimal", ACU_FT_DECIMAL},
        {"double", ACU_FT_DOUBLE}, {"int", ACU_FT_INT},
        {"short", ACU_FT_SHORT},   {"long", ACU_FT_LONG},
        {"byte", ACU_FT_BYTE},     {"bool", ACU_FT_BOOL},
        {"datetime", ACU_FT_DATETIME}, {"guid", ACU_FT_GUID},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, t) == 0)
            return map[i].type;
    return ACU_FT_UNKNOWN;
}

const char *acu_map_ftype_name(acu_ftype t)
{
    switch (t) {
    case ACU_FT_STRING: return "string";
    case ACU_FT_DECIMAL: return "decimal";
    case ACU_FT_DOUBLE: return "double";
    case ACU_FT_INT: return "int";
    case ACU_FT_SHORT: return "short";
    case ACU_FT_LONG: return "long";
    case ACU_FT_BYTE: return "byte";
    case ACU_FT_BOOL: return "bool";
    case ACU_FT_DATETIME: return "datetime";
    case ACU_FT_GUID: return "guid";
    case ACU_FT_ENTITY: return "entity";
    case ACU_FT_LIST: return "list";
    default: return "unknown";
    }
}

int acu_map_catalog_field(const acu_map_catalog *c, const char *ent, const char *field,
                      acu_field_info *info)
{
    json_object *f = fields_of(c, ent), *t;
    const char *ts;
    size_t len;

    memset(info, 0, sizeof(*info));
    /* Members every entity has, handled by the engine. */
    if (strcmp(field, "id") == 0) {
        info->type = ACU_FT_GUID;
        info->system = 1;
        return 0;
    }
    if (strcmp(field, "rowNumber") == 0) {
        info->type = ACU_FT_LONG;
        info->system = 1;
        return 0;
    }
    if (strcmp(field, "note") == 0) {
        info->type = ACU_FT_STRING;
        info->system = 2;
        return 0;
    }
    if (f == NULL || !json_object_object_get_ex(f, field, &t))
        return -1;
    ts = json_object_get_string(t);
    len = strlen(ts);
    if (len > 2 && strcmp(ts + len - 2, "[]") == 0) {
        char buf[128];
        struct lh_entry *e;
        info->type = ACU_FT_LIST;
        if (len - 2 >= sizeof(buf))
            return 0;
        memcpy(buf, ts, len - 2);
        buf[len - 2] = '\0';
        /* Point at the catalogue's own key so the name outlives this call. */
        e = lh_table_lookup_entry(json_object_get_object(c->entities), buf);
        if (e != NULL)
            info->entity = (const char *)lh_entry_k(e);
        return 0;
    }
    info->type = scalar(ts);
    if (info->type == ACU_FT_UNKNOWN) {
        info->type = ACU_FT_ENTITY;
        info->entity = ts;
    }
    return 0;
}

const char *acu_map_catalog_suggest(const acu_map_catalog *c, const char *ent,
                                const char *name)
{
    acu_map_suggest s;
    json_object *f = ent ? fields_of(c, ent) : (c ? c->entities : NULL);

    if (f == NULL)
        return NULL;
    acu_map_suggest_init(&s, name);
    json_object_object_foreach(f, key, val) {
        (void)val;
        acu_map_suggest_add(&s, key);
    }
    return acu_map_suggest_best(&s);
}

const char *acu_map_catalog_last_modified(const acu_map_catalog *c, const char *ent)
{
    json_object *e = entity(c, ent), *lm;

    if (e == NULL || !json_object_object_get_ex(e, "last_modified", &lm))
        return NULL;
    return json_object_get_string(lm);
}

json_object *acu_map_catalog_keys(const acu_map_catalog *c, const char *ent)
{
    json_object *e = entity(c, ent), *k;

    if (e == NULL || !json_object_object_get_ex(e, "keys", &k))
        return NULL;
    return k;
}
