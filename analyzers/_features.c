/* Counting each feature once per post, for analyzers/features.py.
 *
 * first_occurrences: which (post, bucket) pairs are the first of their kind in their post; once_sums: a model's
 * per-post sum of weights over those pairs, and their number, in the same pass (no mask, no gathered copy).
 * Both follow the numpy references in features.py, in O(m) rather than a sort: the pairs are grouped by post with
 * a stable counting sort, then each post's buckets go through a small open-addressing set. "First" is the lowest
 * index and sums run in index order, as np.bincount adds; tests/analyzers/test_features.py holds the compiled and
 * reference results equal (bit for bit) on real posts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* obj as a contiguous buffer of `size`-byte items whose struct format is one of `formats` ("ql" for int64) */
static int get_array(PyObject *obj, Py_buffer *view, const char *name, Py_ssize_t size, const char *formats,
                     const char *type) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if (view->itemsize != size || f[0] == '\0' || f[1] != '\0' || !strchr(formats, f[0])) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous %s array (format %s, item size %zd)", name, type,
                     view->format ? view->format : "B", view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Marks the first occurrence of each (row, bucket) pair: mask[i] = 1 (when mask is given), and, when w is given,
 * adds w[bucket] to sums[row] and one to counts[row], per post in index order (as np.bincount adds). */
static int scan(const int64_t *rows, const int64_t *buckets, Py_ssize_t m, Py_ssize_t n, char *mask, const float *w,
                double *sums, int64_t *counts) {
    Py_ssize_t *start = PyMem_Calloc((size_t)n + 1, sizeof(Py_ssize_t));
    Py_ssize_t *order = PyMem_Malloc((size_t)(m ? m : 1) * sizeof(Py_ssize_t));
    int64_t *slot_key = NULL;
    Py_ssize_t *slot_gen = NULL;
    int rc = -1;
    if (!start || !order) goto done;
    /* stable counting sort by post: order[start[r] .. start[r+1]) are post r's pairs, lowest index first */
    for (Py_ssize_t i = 0; i < m; i++) start[rows[i] + 1]++;
    Py_ssize_t widest = 0;
    for (Py_ssize_t r = 0; r < n; r++) {
        if (start[r + 1] > widest) widest = start[r + 1];
        start[r + 1] += start[r];
    }
    for (Py_ssize_t i = 0; i < m; i++) order[start[rows[i]]++] = i;
    for (Py_ssize_t r = n; r > 0; r--) start[r] = start[r - 1]; /* the fill moved every start one post on */
    start[0] = 0;
    /* one set, sized for the widest post; a slot belongs to the current post when its generation says so */
    size_t cap = 16;
    while (cap < (size_t)widest * 2) cap *= 2;
    slot_key = PyMem_Malloc(cap * sizeof(int64_t));
    slot_gen = PyMem_Malloc(cap * sizeof(Py_ssize_t));
    if (!slot_key || !slot_gen) goto done;
    for (size_t s = 0; s < cap; s++) slot_gen[s] = -1;
    for (Py_ssize_t r = 0; r < n; r++) {
        size_t width = 16;
        while (width < (size_t)(start[r + 1] - start[r]) * 2) width *= 2; /* this post's share of the set */
        double sum = 0.0;
        int64_t cnt = 0;
        for (Py_ssize_t k = start[r]; k < start[r + 1]; k++) {
            Py_ssize_t i = order[k];
            int64_t key = buckets[i];
            size_t h = (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ULL) >> 32) & (width - 1);
            while (slot_gen[h] == r && slot_key[h] != key) h = (h + 1) & (width - 1);
            if (slot_gen[h] != r) {
                slot_gen[h] = r;
                slot_key[h] = key;
                if (mask) mask[i] = 1;
                if (w) {
                    sum += (double)w[key];
                    cnt++;
                }
            }
        }
        if (w) {
            sums[r] = sum;
            counts[r] = cnt;
        }
    }
    rc = 0;
done:
    if (rc < 0) PyErr_NoMemory();
    PyMem_Free(start);
    PyMem_Free(order);
    PyMem_Free(slot_key);
    PyMem_Free(slot_gen);
    return rc;
}

typedef struct {
    Py_buffer rv, bv;
    Py_ssize_t m; /* number of pairs */
} Pairs;

static void pairs_release(Pairs *p) {
    PyBuffer_Release(&p->rv);
    PyBuffer_Release(&p->bv);
}

/* rows and buckets as int64 buffers of one length, every row in 0..n-1 and every bucket in 0..nbuckets-1 */
static int pairs_get(Pairs *p, PyObject *rows_o, PyObject *buckets_o, Py_ssize_t n, Py_ssize_t nbuckets) {
    if (n < 0) {
        PyErr_Format(PyExc_ValueError, "n must be >= 0, not %zd", n);
        return -1;
    }
    if (get_array(rows_o, &p->rv, "rows", 8, "ql", "int64") < 0) return -1;
    if (get_array(buckets_o, &p->bv, "buckets", 8, "ql", "int64") < 0) {
        PyBuffer_Release(&p->rv);
        return -1;
    }
    p->m = p->rv.len / 8;
    const int64_t *rows = p->rv.buf, *buckets = p->bv.buf;
    if (p->bv.len / 8 != p->m) {
        PyErr_Format(PyExc_ValueError, "rows and buckets differ in length (%zd and %zd)", p->m, p->bv.len / 8);
        goto fail;
    }
    for (Py_ssize_t i = 0; i < p->m; i++) {
        if (rows[i] < 0 || rows[i] >= n) {
            PyErr_Format(PyExc_ValueError, "rows[%zd] = %lld is outside 0..%zd", i, (long long)rows[i], n - 1);
            goto fail;
        }
        if (nbuckets >= 0 && (buckets[i] < 0 || buckets[i] >= nbuckets)) {
            PyErr_Format(PyExc_ValueError, "buckets[%zd] = %lld is outside the %zd weights", i, (long long)buckets[i],
                         nbuckets);
            goto fail;
        }
    }
    return 0;
fail:
    pairs_release(p);
    return -1;
}

static PyObject *first_occurrences(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *rows_o, *buckets_o;
    Py_ssize_t n;
    Pairs p;
    if (!PyArg_ParseTuple(args, "OOn:first_occurrences", &rows_o, &buckets_o, &n)) return NULL;
    if (pairs_get(&p, rows_o, buckets_o, n, -1) < 0) return NULL;
    PyObject *out = PyByteArray_FromStringAndSize(NULL, p.m);
    if (out) {
        memset(PyByteArray_AS_STRING(out), 0, (size_t)p.m);
        if (scan(p.rv.buf, p.bv.buf, p.m, n, PyByteArray_AS_STRING(out), NULL, NULL, NULL) < 0) Py_CLEAR(out);
    }
    pairs_release(&p);
    return out;
}

static PyObject *once_sums(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *rows_o, *buckets_o, *w_o;
    Py_ssize_t n;
    Pairs p;
    Py_buffer wv;
    if (!PyArg_ParseTuple(args, "OOnO:once_sums", &rows_o, &buckets_o, &n, &w_o)) return NULL;
    if (get_array(w_o, &wv, "weights", 4, "f", "float32") < 0) return NULL;
    if (pairs_get(&p, rows_o, buckets_o, n, wv.len / 4) < 0) {
        PyBuffer_Release(&wv);
        return NULL;
    }
    PyObject *sums = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(n * sizeof(double)));
    PyObject *counts = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(n * sizeof(int64_t)));
    PyObject *out = NULL;
    if (sums && counts && scan(p.rv.buf, p.bv.buf, p.m, n, NULL, wv.buf, (double *)PyByteArray_AS_STRING(sums),
                               (int64_t *)PyByteArray_AS_STRING(counts)) == 0)
        out = PyTuple_Pack(2, sums, counts);
    Py_XDECREF(sums);
    Py_XDECREF(counts);
    pairs_release(&p);
    PyBuffer_Release(&wv);
    return out;
}

static PyMethodDef methods[] = {
    {"first_occurrences", first_occurrences, METH_VARARGS,
     "first_occurrences(rows, buckets, n) -> bytearray: 1 where the pair (rows[i], buckets[i]) occurs for the first "
     "time (lowest index), 0 elsewhere; rows and buckets are contiguous int64 arrays, every row in 0..n-1."},
    {"once_sums", once_sums, METH_VARARGS,
     "once_sums(rows, buckets, n, weights) -> (sums, counts): per row, the float64 sum of weights[bucket] over the "
     "first occurrences of its buckets and how many there are (bytearrays of n float64 and n int64); weights is a "
     "contiguous float32 array."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_features", "Compiled helpers of analyzers/features.py.", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__features(void) { return PyModule_Create(&module); }
