/* registry/roster.c — roster row checks and import (the CSV reader is registry/csv.c). */
#include "registry/roster.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "registry/csv.h"
#include "registry/offering.h"

enum { COL_NO, COL_NAME, COL_REG, COL_ID, COL_PHONE, COL_N };

static int header_col(const char *h) {
  static const struct {
    const char *name;
    int col;
  } names[] = {{"student_no", COL_NO},   {"学号", COL_NO},        {"name", COL_NAME},
               {"姓名", COL_NAME},        {"registration", COL_REG}, {"选课号", COL_REG},
               {"national_id", COL_ID},   {"身份证号", COL_ID},    {"phone", COL_PHONE},
               {"手机号", COL_PHONE}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcasecmp(h, names[i].name)) return names[i].col;
  return -1;
}

/* ---- student-number set (duplicates within one file) ------------------------------------ */

typedef struct seen_set {
  const char **key;
  size_t *line;
  size_t cap, n;
} seen_set;

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Adds key; returns 0 if new, else the line it was first seen on. -1 on no memory. */
static long long seen_add(seen_set *ss, const char *key, size_t line) {
  if (2 * (ss->n + 1) > ss->cap) {
    size_t cap = ss->cap ? 2 * ss->cap : 1024;
    const char **nk = calloc(cap, sizeof *nk);
    size_t *nl = calloc(cap, sizeof *nl);
    if (!nk || !nl) {
      free(nk);
      free(nl);
      return -1;
    }
    for (size_t i = 0; i < ss->cap; i++)
      if (ss->key[i]) {
        size_t j = fnv(ss->key[i]) & (cap - 1);
        while (nk[j]) j = (j + 1) & (cap - 1);
        nk[j] = ss->key[i];
        nl[j] = ss->line[i];
      }
    free(ss->key);
    free(ss->line);
    ss->key = nk;
    ss->line = nl;
    ss->cap = cap;
  }
  size_t j = fnv(key) & (ss->cap - 1);
  while (ss->key[j]) {
    if (!strcmp(ss->key[j], key)) return (long long)ss->line[j];
    j = (j + 1) & (ss->cap - 1);
  }
  ss->key[j] = key;
  ss->line[j] = line;
  ss->n++;
  return 0;
}

/* ---- personal fields ------------------------------------------------------------------------ */

/* GB 11643: 17 digits and a check character (digit or X), the check verified. */
static int national_id_ok(const char *s) {
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static const char check[] = "10X98765432";
  if (strlen(s) != 18) return 0;
  int sum = 0;
  for (int i = 0; i < 17; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    sum += (s[i] - '0') * w[i];
  }
  char c = s[17] == 'x' ? 'X' : s[17];
  return c == check[sum % 11];
}

/* A mainland mobile number: 11 digits starting with 1. */
static int phone_ok(const char *s) {
  if (strlen(s) != 11 || s[0] != '1') return 0;
  for (int i = 0; i < 11; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* ---- problems ---------------------------------------------------------------------------- */

static int problem(mg_registry_roster_outcome *out, size_t line, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int problem(mg_registry_roster_outcome *out, size_t line, const char *code,
                   const char *fmt, ...) {
  out->rows_bad++;
  if (out->rows_bad > MG_REGISTRY_ROSTER_MAX_PROBLEMS) return MG_OK;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mg_utf8_trim_tail(msg);
  mg_buf *b = &out->problems;
  int rc = mg_buf_adds(b, b->len > 1 ? "," : "");
  if (!rc) rc = mg_buf_addf(b, "{\"line\":%zu,\"code\":\"%s\",\"message\":\"", line, code);
  if (!rc) rc = mg_buf_add_json_str(b, msg, strlen(msg));
  if (!rc) rc = mg_buf_adds(b, "\"}");
  return rc;
}

static int student_no_ok(const char *s) {
  size_t n = strlen(s);
  if (!n || n > 32) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
          c == '_'))
      return 0;
  }
  return 1;
}

typedef struct bad_ctx {
  mg_registry_roster_outcome *out;
  int rc;
} bad_ctx;

static int on_clash(void *ud, const mg_reg_roster_row *row, const char *code, const char *message) {
  bad_ctx *bc = ud;
  int rc = problem(bc->out, row->line, code, "学号 %s：%s / student_no %s: %s", row->student_no,
                   !strcmp(code, "registration_taken") ? "选课号已属于其他选课记录"
                                                       : "该生已有不同的选课号",
                   row->student_no, message);
  if (!rc) bc->out->rows_ok--;
  return rc;
}

int mg_registry_roster_import(mg_store *s, int64_t offering_id, const char *csv, size_t len,
                              int preview, const char *by, int64_t now_us,
                              mg_registry_roster_outcome *out, mg_registry_why *why) {
  mg_registry_csv rec = {0};
  mg_reg_roster_row *rows = NULL;
  seen_set seen = {0};
  size_t n_rows = 0, cap_rows = 0;
  int col[COL_N];
  int rc;

  memset(out, 0, sizeof *out);
  out->preview = preview;
  mg_buf_init(&out->problems, (size_t)64 << 20);
  if ((rc = mg_buf_adds(&out->problems, "["))) goto out;

  mg_reg_offering off;
  if ((rc = mg_registry_offering_get(s, offering_id, &off, NULL, NULL, why))) goto out;

  unsigned char dg[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(dg, (const unsigned char *)csv, len);
  sodium_bin2hex(out->digest, sizeof out->digest, dg, sizeof dg);

  if (!preview) {
    mg_reg_roster_import last;
    rc = mg_store_reg_import_last(s, offering_id, &last);
    if (rc == MG_OK && !strcmp(last.digest, out->digest)) {
      /* the very same file again: report the earlier import and change nothing */
      out->duplicate_of = last.id;
      out->rows_total = last.rows_total;
      out->rows_bad = last.rows_bad;
      out->rows_ok = last.rows_total - last.rows_bad;
      mg_buf_reset(&out->problems);
      rc = mg_buf_adds(&out->problems, last.report ? last.report : "[]");
      mg_store_reg_import_clear(&last);
      goto out;
    }
    mg_store_reg_import_clear(&last);
    if (rc && rc != MG_ENOTFOUND) {
      rc = mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
      goto out;
    }
  }

  if ((rc = mg_registry_csv_open(&rec, csv, len))) goto out;
  rc = mg_registry_csv_next(&rec);
  if (rc < 0) goto out;
  if (rc == 0 || rec.malformed) {
    rc = mg_registry_refuse(why, MG_EINVAL, "invalid_roster",
                            "CSV 缺少表头行 / the CSV has no (well-formed) header row; expected "
                            "columns student_no (学号), name (姓名), optional registration");
    goto out;
  }
  for (int k = 0; k < COL_N; k++) col[k] = -1;
  size_t n_cols = rec.n_fields;
  for (size_t i = 0; i < rec.n_fields; i++) {
    char *h = rec.field[i];
    mg_registry_csv_trim(&h);
    if (mg_registry_check_text("header", h, 64, 1, NULL)) {
      rc = mg_registry_refuse(why, MG_EINVAL, "invalid_roster",
                              "表头第 %zu 列不是有效的 UTF-8 / header column %zu is not valid UTF-8 "
                              "text",
                              i + 1, i + 1);
      goto out;
    }
    int c = header_col(h);
    if (c < 0) {
      size_t o = strlen(out->ignored);
      if (o + strlen(h) + 2 < sizeof out->ignored)
        snprintf(out->ignored + o, sizeof out->ignored - o, "%s%s", o ? "," : "", h);
      continue;
    }
    if (col[c] >= 0) {
      rc = mg_registry_refuse(why, MG_EINVAL, "invalid_roster",
                              "表头列 %s 重复 / header column '%.64s' appears twice", h, h);
      goto out;
    }
    col[c] = (int)i;
  }
  if (col[COL_NO] < 0 || col[COL_NAME] < 0) {
    rc = mg_registry_refuse(why, MG_EINVAL, "invalid_roster",
                            "表头缺少%s列 / the header lacks the %s column",
                            col[COL_NO] < 0 ? "学号 (student_no)" : "姓名 (name)",
                            col[COL_NO] < 0 ? "student_no" : "name");
    goto out;
  }
  /* personal fields: stored only sealed (field encryption), so only when keys are loaded */
  int seal = mg_keyring_ready();
  if (col[COL_ID] >= 0 || col[COL_PHONE] >= 0)
    snprintf(seal ? out->sealed : out->not_stored, sizeof out->sealed, "%s%s%s",
             col[COL_ID] >= 0 ? "national_id" : "",
             col[COL_ID] >= 0 && col[COL_PHONE] >= 0 ? "," : "",
             col[COL_PHONE] >= 0 ? "phone" : "");

  while ((rc = mg_registry_csv_next(&rec)) == 1) {
    out->rows_total++;
    if (out->rows_total > MG_REGISTRY_ROSTER_MAX_ROWS) {
      rc = mg_registry_refuse(why, MG_EINVAL, "invalid_roster",
                              "名单超过 %d 行 / the roster has more than %d rows",
                              MG_REGISTRY_ROSTER_MAX_ROWS, MG_REGISTRY_ROSTER_MAX_ROWS);
      goto out;
    }
    if (rec.malformed) {
      if ((rc = problem(out, rec.line, "malformed_row",
                        "引号不匹配 / misplaced or unterminated quote")))
        goto out;
      continue;
    }
    if (rec.n_fields != n_cols) {
      if ((rc = problem(out, rec.line, "wrong_field_count",
                        "字段数 %zu，表头为 %zu / %zu fields, the header has %zu", rec.n_fields,
                        n_cols, rec.n_fields, n_cols)))
        goto out;
      continue;
    }
    char *no = rec.field[col[COL_NO]], *name = rec.field[col[COL_NAME]];
    mg_registry_csv_trim(&no);
    mg_registry_csv_trim(&name);
    if (!student_no_ok(no)) {
      if ((rc = problem(out, rec.line, "invalid_student_no",
                        "学号应为 1 至 32 位字母、数字、- 或 _ / student_no must be 1 to 32 "
                        "letters, digits, '-' or '_'")))
        goto out;
      continue;
    }
    if (mg_registry_check_text("name", name, 127, 0, NULL)) {
      if ((rc = problem(out, rec.line, "invalid_name",
                        "学号 %s：姓名为空、过长或含非法字符 / student_no %s: name is empty, longer "
                        "than 127 bytes, or not valid text",
                        no, no)))
        goto out;
      continue;
    }
    uint8_t reg[16];
    int has_reg = 0;
    if (col[COL_REG] >= 0) {
      char *r = rec.field[col[COL_REG]];
      mg_registry_csv_trim(&r);
      if (*r) {
        if (mg_uuid_parse(r, reg) != MG_OK || strlen(r) != 36) {
          if ((rc = problem(out, rec.line, "invalid_registration",
                            "学号 %s：选课号不是 UUID / student_no %s: registration is not a UUID",
                            no, no)))
            goto out;
          continue;
        }
        has_reg = 1;
      }
    }
    char *pii[2] = {NULL, NULL}; /* national ID, phone: checked, then sealed */
    int pii_bad = 0;
    for (int k = 0; k < 2 && !pii_bad; k++) {
      int c = k ? COL_PHONE : COL_ID;
      if (col[c] < 0) continue;
      char *v = rec.field[col[c]];
      mg_registry_csv_trim(&v);
      if (!*v) continue;
      if (!(k ? phone_ok(v) : national_id_ok(v))) {
        if ((rc = problem(out, rec.line, k ? "invalid_phone" : "invalid_national_id",
                          "学号 %s：%s格式不正确 / student_no %s: %s is malformed", no,
                          k ? "手机号" : "身份证号", no, k ? "phone" : "national_id")))
          goto out;
        pii_bad = 1;
        continue;
      }
      pii[k] = v;
    }
    if (pii_bad) continue;
    long long first = seen_add(&seen, no, rec.line);
    if (first < 0) {
      rc = MG_ENOMEM;
      goto out;
    }
    if (first) {
      if ((rc = problem(out, rec.line, "duplicate_student_no",
                        "学号 %s 与第 %lld 行重复 / student_no %s repeats line %lld", no, first, no,
                        first)))
        goto out;
      continue;
    }
    if (n_rows == cap_rows) {
      size_t cap = cap_rows ? 2 * cap_rows : 1024;
      mg_reg_roster_row *nr = realloc(rows, cap * sizeof *nr);
      if (!nr) {
        rc = MG_ENOMEM;
        goto out;
      }
      rows = nr;
      cap_rows = cap;
    }
    mg_reg_roster_row *row = &rows[n_rows++];
    row->line = rec.line;
    row->student_no = no;
    row->name = name;
    row->has_registration = has_reg;
    if (has_reg) memcpy(row->registration, reg, 16);
    else mg_uuid_v4(row->registration);
    row->national_id_enc = row->phone_enc = NULL;
    for (int k = 0; seal && k < 2; k++) {
      if (!pii[k]) continue;
      char *tok = NULL;
      if ((rc = mg_crypto_seal(k ? "student.phone" : "student.national_id", pii[k],
                               strlen(pii[k]), &tok)))
        goto out;
      if (k) row->phone_enc = tok;
      else row->national_id_enc = tok;
    }
  }
  if (rc < 0) goto out;
  out->rows_ok = (int64_t)n_rows;

  mg_reg_roster_meta meta = {out->digest, out->rows_total, by, now_us};
  bad_ctx bc = {out, MG_OK};
  rc = mg_store_reg_roster_apply(s, offering_id, off.university_id, rows, n_rows, preview, &meta,
                                 on_clash, &bc, &out->diff);
  if (rc) {
    rc = mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
    goto out;
  }
  if ((rc = mg_buf_adds(&out->problems, "]"))) goto out;
  out->import_id = out->diff.import_id;
  if (!preview && out->rows_bad &&
      (rc = mg_store_reg_import_set_report(s, out->import_id, out->rows_bad, out->problems.data))) {
    rc = mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
    goto out;
  }
out:
  if (rc == MG_ENOMEM) mg_registry_refuse(why, rc, "out_of_memory", "out of memory");
  free(seen.key);
  free(seen.line);
  for (size_t i = 0; i < n_rows; i++) {
    free((char *)rows[i].national_id_enc);
    free((char *)rows[i].phone_enc);
  }
  free(rows);
  mg_registry_csv_close(&rec);
  return rc;
}

void mg_registry_roster_outcome_free(mg_registry_roster_outcome *out) {
  if (out) mg_buf_free(&out->problems);
}
