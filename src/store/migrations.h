/* store/migrations.h — numbered schema migrations compiled into the binary.
 *
 * The .sql files under src/store/migrations/<backend>/ are the source of truth; the build embeds
 * them (cmake/embed_migrations.cmake). A backend applies, in order, each one whose number is
 * above the schema version it has recorded, each in its own transaction. */
#ifndef MG_STORE_MIGRATIONS_H
#define MG_STORE_MIGRATIONS_H

typedef struct mg_store_migration {
  int number;        /* from the file name, NNN_... */
  const char *name;  /* file name */
  const char *sql;   /* its statements */
} mg_store_migration;

/* SQLite backend migrations, ascending, terminated by {0, 0, 0}. */
extern const mg_store_migration mg_store_sqlite_migrations[];
extern const int mg_store_sqlite_migrations_count;

#endif
