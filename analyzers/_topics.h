/* The compiled topic clusterer's shared declarations: its storage (_topics_store.c), its assignment and
 * Python type (_topics.c) and its state (_topics_state.c). See _topics.c for what it is. */
#ifndef OPINION_DESK_TOPICS_H
#define OPINION_DESK_TOPICS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NBANDS 4
#define NBUCKETS 65536
#define MAXLAB 8

typedef struct {
    PyObject *tid;   /* str; NULL while the slot is free */
    PyObject *label; /* str */
    long long n, last, created;
    double norm;
    int nterms, cap;
    int *term;       /* term ids, insertion order */
    double *w;
    int nlab;        /* label made of lab[0..nlab); -1: unknown (loaded from state) */
    int lab[MAXLAB];
    unsigned stamp;
    int accpos;
} Topic;

typedef struct {
    PyObject_HEAD
    double threshold;
    int dup_bits, max_terms, label_terms, P;
    Py_ssize_t max_topics, recent;
    PyObject *new_id;
    long long seq, created;
    /* topics */
    Topic *tp;
    int ntp, tp_alloc, *tfree, ntfree;
    Py_ssize_t live;
    PyObject *tid2slot;
    /* terms */
    PyObject *term2id, **id2term;
    int *tcount, *plen, *post; /* post[id * P + i]: topic slots, least recent first */
    int nterm, *free_term, nfree_term, term_alloc;
    /* recent SimHashes */
    uint64_t *hh;
    PyObject **htid;
    int *hnext; /* hnext[e * NBANDS + b] */
    Py_ssize_t hlen, hcap;
    int *head, *tail; /* [b * NBUCKETS + key] */
    unsigned stamp;
    /* scratch for one assign */
    int *cand;
    double *dot;
    int cand_alloc;
    int ready; /* set by a successful core_reset (Core(...) or load_state), cleared by core_clear */
    int busy;  /* inside one of its methods: a re-entrant call (from new_id, a term's __eq__...) is refused */
} Core;

typedef struct {
    long long last, created;
    int slot;
} Order;

Order *live_topics(Core *s, int (*cmp)(const void *, const void *));
int resize(void **p, size_t elem, int n);
int term_intern(Core *s, PyObject *t);
int term_release(Core *s, int id);
void post_remove(Core *s, int id, int slot);
void post_touch(Core *s, int id, int slot);
int topic_add_term(Core *s, Topic *t, int id, double w);
int topic_new(Core *s, PyObject *tid);
int topic_drop(Core *s, int slot);
void remember_hash(Core *s, uint64_t h, PyObject *tid);
int near_dup(Core *s, uint64_t h);
int by_last(const void *a, const void *b);
int by_created(const void *a, const void *b);
void core_clear(Core *s);
int core_reset(Core *s);

static inline int term_id(Core *s, PyObject *t) { /* -1: unknown (no error set) or error (set) */
    PyObject *v = PyDict_GetItemWithError(s->term2id, t);
    return v ? (int)PyLong_AsLong(v) : -1;
}

static inline double norm_of(const double *w, int n) {
    double acc = 0.0;
    for (int i = 0; i < n; i++) acc += w[i] * w[i];
    return acc > 0 ? sqrt(acc) : 1.0;
}

static inline int topic_find(Topic *t, int id) {
    for (int i = 0; i < t->nterms; i++)
        if (t->term[i] == id) return i;
    return -1;
}

static inline int slot_of(Core *s, PyObject *tid) { /* -1: no such live topic (or error set) */
    PyObject *v = PyDict_GetItemWithError(s->tid2slot, tid);
    return v ? (int)PyLong_AsLong(v) : -1;
}

/* every method that touches the state: refuse a Core that was never initialised (Core.__new__(Core)) and a call
 * made from inside another of its calls, which could free what the outer call is using */
static inline int core_enter(Core *s) {
    if (!s->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Core is not initialised: call Core(...) (or __init__) first");
        return -1;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Core is busy: it was called again from inside one of its own calls");
        return -1;
    }
    s->busy = 1;
    return 0;
}

static inline void core_leave(Core *s) { s->busy = 0; }

PyObject *Core_state(Core *s, PyObject *ignored);
PyObject *Core_load_state(Core *s, PyObject *state);

#endif
