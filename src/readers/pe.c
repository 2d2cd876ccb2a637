/*
 * PE version resource reader. Layout facts from Microsoft's PE format
 * documentation ("PE Format", .rsrc section) and the VS_VERSIONINFO,
 * StringFileInfo, StringTable and String structure references.
 *
 * Every read goes through rd16/rd32 with an explicit bounds check; every
 * length from the file is checked against its parent before use; loops are
 * bounded by counts we cap, never by values from the file alone.
 */
#include "pe.h"

#include <string.h>

#define RT_VERSION 16
#define VS_FFI_SIGNATURE 0xFEEF04BDu
/* Resource directories of real binaries hold tens of entries per level. */
#define MAX_DIR_ENTRIES 4096
/* Real version resources are a few KiB. */
#define MAX_VERSION_BYTES (1u << 20)
/* Children walked per block: a StringTable has about a dozen strings. */
#define MAX_CHILDREN 256

typedef struct span {
  const unsigned char *p;
  size_t len;
} span;

static bool rd16(span s, size_t off, uint16_t *v) {
  if (off > s.len || s.len - off < 2) return false;
  *v = (uint16_t)(s.p[off] | (s.p[off + 1] << 8));
  return true;
}

static bool rd32(span s, size_t off, uint32_t *v) {
  if (off > s.len || s.len - off < 4) return false;
  *v = (uint32_t)s.p[off] | ((uint32_t)s.p[off + 1] << 8) |
       ((uint32_t)s.p[off + 2] << 16) | ((uint32_t)s.p[off + 3] << 24);
  return true;
}

typedef struct section {
  uint32_t va, vsize, raw_off, raw_size;
} section;

typedef struct pe_image {
  span file;
  const char *name;
  section sec[96];
  size_t nsec;
} pe_image;

/* Maps an RVA range to file bytes; both ends must be inside one section's
 * raw data. */
static bool rva_span(const pe_image *pe, uint32_t rva, uint32_t size, span *out) {
  for (size_t i = 0; i < pe->nsec; i++) {
    const section *s = &pe->sec[i];
    uint32_t extent = s->raw_size;
    if (rva < s->va || rva - s->va >= extent) continue;
    uint32_t delta = rva - s->va;
    if (size > extent - delta) return false;
    uint64_t off = (uint64_t)s->raw_off + delta;
    if (off > pe->file.len || pe->file.len - off < size) return false;
    out->p = pe->file.p + off;
    out->len = size;
    return true;
  }
  return false;
}

#define FAIL(off, ...) exhi_err(err, EXH_ERR_PARSE, pe->name, 0, (long long)(off), __VA_ARGS__)

static int parse_headers(pe_image *pe, uint32_t *rsrc_rva, uint32_t *rsrc_size, exh_error *err) {
  span f = pe->file;
  uint16_t mz, nsec, optsize, magic;
  uint32_t lfanew, sig;
  if (!rd16(f, 0, &mz) || mz != 0x5A4D) return FAIL(0, "not a PE file: no MZ header");
  if (!rd32(f, 0x3C, &lfanew)) return FAIL(0x3C, "truncated DOS header");
  if (!rd32(f, lfanew, &sig) || sig != 0x00004550)
    return FAIL(lfanew, "no PE signature where the DOS header points");
  size_t coff = (size_t)lfanew + 4;
  if (!rd16(f, coff + 2, &nsec) || !rd16(f, coff + 16, &optsize))
    return FAIL(coff, "truncated COFF header");
  size_t opt = coff + 20;
  if (!rd16(f, opt, &magic)) return FAIL(opt, "truncated optional header");
  size_t nrva_off, dirs;
  if (magic == 0x10b) {
    nrva_off = opt + 92;
    dirs = opt + 96;
  } else if (magic == 0x20b) {
    nrva_off = opt + 108;
    dirs = opt + 112;
  } else {
    return FAIL(opt, "unknown optional header magic 0x%04x", magic);
  }
  uint32_t nrva;
  if (!rd32(f, nrva_off, &nrva)) return FAIL(nrva_off, "truncated optional header");
  *rsrc_rva = *rsrc_size = 0;
  /* The resource table is data directory 2; the directory must also fit in
   * the optional header's declared size. */
  if (nrva > 2 && dirs + 2 * 8 + 8 <= opt + optsize) {
    if (!rd32(f, dirs + 16, rsrc_rva) || !rd32(f, dirs + 20, rsrc_size))
      return FAIL(dirs + 16, "truncated data directories");
  }
  if (nsec > EXHI_ARRAY_LEN(pe->sec))
    return FAIL(coff + 2, "%u sections, more than a PE image may have (96)", nsec);
  size_t st = opt + optsize;
  for (size_t i = 0; i < nsec; i++) {
    size_t o = st + i * 40;
    section *s = &pe->sec[pe->nsec];
    if (!rd32(f, o + 8, &s->vsize) || !rd32(f, o + 12, &s->va) ||
        !rd32(f, o + 16, &s->raw_size) || !rd32(f, o + 20, &s->raw_off))
      return FAIL(o, "section table runs past the end of the file");
    pe->nsec++;
  }
  return EXH_OK;
}

/* Finds the first entry of a resource directory at dir_off (relative to the
 * resource section) whose id is `id` (or any entry when id < 0). Returns the
 * entry's OffsetToData, or false. */
static bool dir_entry(span rs, uint32_t dir_off, long id, uint32_t *target) {
  uint16_t named, ids;
  if (!rd16(rs, (size_t)dir_off + 12, &named) || !rd16(rs, (size_t)dir_off + 14, &ids))
    return false;
  size_t n = (size_t)named + ids;
  if (n > MAX_DIR_ENTRIES) return false;
  for (size_t i = 0; i < n; i++) {
    size_t e = (size_t)dir_off + 16 + i * 8;
    uint32_t name, off;
    if (!rd32(rs, e, &name) || !rd32(rs, e + 4, &off)) return false;
    if (id >= 0 && ((name & 0x80000000u) || name != (uint32_t)id)) continue;
    *target = off;
    return true;
  }
  return false;
}

/* Decodes a NUL-terminated UTF-16LE key/value inside `s` from off, at most
 * max_units units, into UTF-8. Returns the bytes consumed including the NUL,
 * or 0 if no terminator is found. */
static size_t utf16z(span s, size_t off, size_t max_units, char *out, size_t outsz) {
  size_t o = 0;
  for (size_t u = 0; u < max_units; u++) {
    uint16_t c;
    if (!rd16(s, off + 2 * u, &c)) return 0;
    if (c == 0) {
      if (outsz) out[o < outsz ? o : outsz - 1] = '\0';
      return 2 * (u + 1);
    }
    uint32_t cp = c;
    if (c >= 0xD800 && c <= 0xDBFF) {
      uint16_t lo;
      if (u + 1 < max_units && rd16(s, off + 2 * (u + 1), &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + (((uint32_t)c - 0xD800) << 10) + (lo - 0xDC00);
        u++;
      } else {
        cp = 0xFFFD;
      }
    } else if (c >= 0xDC00 && c <= 0xDFFF) {
      cp = 0xFFFD;
    }
    char tmp[4];
    size_t n;
    if (cp < 0x80) { tmp[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { tmp[0] = (char)(0xC0 | (cp >> 6)); tmp[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { tmp[0] = (char)(0xE0 | (cp >> 12)); tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
    else { tmp[0] = (char)(0xF0 | (cp >> 18)); tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
    if (outsz && o + n < outsz) {
      memcpy(out + o, tmp, n);
      o += n;
    }
  }
  return 0;
}

static size_t align4(size_t x) { return (x + 3) & ~(size_t)3; }

/* A version block: wLength, wValueLength, wType, szKey, padding, Value,
 * padding, Children. Fills the key, where the value starts and where the
 * children start; checks wLength fits the parent. */
typedef struct block {
  size_t start, end;      /* [start, end) within the version span */
  uint16_t value_len, type;
  char key[64];
  size_t value_off;       /* start of Value */
  size_t children_off;    /* start of Children */
} block;

static bool read_block(span v, size_t off, size_t parent_end, block *b) {
  uint16_t len;
  if (!rd16(v, off, &len) || !rd16(v, off + 2, &b->value_len) || !rd16(v, off + 4, &b->type))
    return false;
  if (len < 6 || off + len > parent_end) return false;
  b->start = off;
  b->end = off + len;
  span inner = {v.p, b->end};
  size_t klen = utf16z(inner, off + 6, 64, b->key, sizeof b->key);
  if (!klen) return false;
  b->value_off = align4(off + 6 + klen);
  /* Text values count wValueLength in 16-bit units, binary ones in bytes. */
  size_t vbytes = b->type == 1 ? (size_t)b->value_len * 2 : b->value_len;
  if (b->value_off > b->end || b->end - b->value_off < vbytes) {
    /* Some linkers count the text length in bytes; tolerate a value that
     * ends with the block. */
    if (b->type == 1 && b->value_off <= b->end) vbytes = b->end - b->value_off;
    else return false;
  }
  b->children_off = align4(b->value_off + vbytes);
  if (b->children_off > b->end) b->children_off = b->end;
  return true;
}

static void parse_strings(span v, const block *sfi, exhi_pe_version *out) {
  size_t off = sfi->children_off;
  for (int t = 0; t < MAX_CHILDREN && off + 6 <= sfi->end; t++) {
    block table;
    if (!read_block(v, off, sfi->end, &table)) return;
    size_t so = table.children_off;
    for (int i = 0; i < MAX_CHILDREN && so + 6 <= table.end; i++) {
      block str;
      if (!read_block(v, so, table.end, &str)) break;
      char *dst = NULL;
      size_t dsz = 0;
      if (strcmp(str.key, "FileVersion") == 0) { dst = out->file_version; dsz = sizeof out->file_version; }
      else if (strcmp(str.key, "ProductName") == 0) { dst = out->product_name; dsz = sizeof out->product_name; }
      if (dst && !dst[0] && str.value_len) {
        span inner = {v.p, str.end};
        size_t units = (str.end - str.value_off) / 2;
        if (!utf16z(inner, str.value_off, units, dst, dsz)) {
          /* Unterminated: take what fits. */
          dst[0] = '\0';
        }
      }
      so = align4(str.end);
    }
    /* The first StringTable is the one Windows shows; more are translations. */
    return;
  }
}

int exhi_pe_read_version(const unsigned char *data, size_t len, const char *name,
                         exhi_pe_version *out, exh_error *err) {
  memset(out, 0, sizeof *out);
  pe_image img = {.file = {data, len}, .name = name};
  pe_image *pe = &img;
  uint32_t rva = 0, size = 0; /* parse_headers sets both on success; -O3 cannot see it */
  int rc = parse_headers(pe, &rva, &size, err);
  if (rc) return rc;
  if (!rva || !size)
    return exhi_err(err, EXH_ERR_NOTFOUND, name, 0, -1, "PE file has no resources, so no version resource");
  span rs;
  /* Take the resource section from the directory's RVA to the end of its
   * section: entries point anywhere inside it. */
  bool mapped = false;
  for (size_t i = 0; i < pe->nsec && !mapped; i++) {
    const section *s = &pe->sec[i];
    if (rva >= s->va && rva - s->va < s->raw_size)
      mapped = rva_span(pe, rva, s->raw_size - (rva - s->va), &rs);
  }
  if (!mapped) return FAIL(0, "resource directory (RVA 0x%x) lies outside every section's data", rva);
  uint32_t t1, t2, t3;
  if (!dir_entry(rs, 0, RT_VERSION, &t1))
    return exhi_err(err, EXH_ERR_NOTFOUND, name, 0, -1, "PE file has no version resource (RT_VERSION)");
  if (!(t1 & 0x80000000u) || !dir_entry(rs, t1 & 0x7FFFFFFFu, -1, &t2) ||
      !(t2 & 0x80000000u) || !dir_entry(rs, t2 & 0x7FFFFFFFu, -1, &t3) || (t3 & 0x80000000u))
    return FAIL(0, "malformed resource directory under RT_VERSION");
  uint32_t drva, dsize;
  if (!rd32(rs, t3, &drva) || !rd32(rs, (size_t)t3 + 4, &dsize))
    return FAIL(0, "resource data entry outside the resource section");
  if (dsize > MAX_VERSION_BYTES)
    return FAIL(0, "version resource of %u bytes is larger than any real one", dsize);
  span v;
  if (!rva_span(pe, drva, dsize, &v))
    return FAIL(0, "version resource (RVA 0x%x, %u bytes) lies outside the file", drva, dsize);

  block root;
  size_t voff = (size_t)(v.p - data);
  if (!read_block(v, 0, v.len, &root) || strcmp(root.key, "VS_VERSION_INFO") != 0)
    return FAIL(voff, "version resource does not start with a VS_VERSION_INFO block");
  if (root.value_len >= 52) {
    uint32_t sig, ms, ls;
    if (rd32(v, root.value_off, &sig) && sig == VS_FFI_SIGNATURE &&
        rd32(v, root.value_off + 8, &ms) && rd32(v, root.value_off + 12, &ls)) {
      out->has_fixed = true;
      out->fixed.major = ms >> 16;
      out->fixed.minor = ms & 0xFFFF;
      out->fixed.build = ls >> 16;
      out->fixed.revision = ls & 0xFFFF;
      out->fixed.parts = 4;
    }
  }
  size_t off = root.children_off;
  for (int i = 0; i < MAX_CHILDREN && off + 6 <= root.end; i++) {
    block child;
    if (!read_block(v, off, root.end, &child)) break;
    if (strcmp(child.key, "StringFileInfo") == 0) parse_strings(v, &child, out);
    off = align4(child.end);
  }
  if (!out->has_fixed && !out->file_version[0])
    return FAIL(voff, "version resource holds neither VS_FIXEDFILEINFO nor a FileVersion string");
  return EXH_OK;
}
