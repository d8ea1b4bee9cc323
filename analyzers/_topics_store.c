/* The compiled topic clusterer's storage: interned terms and their postings, topic slots, recent SimHashes. */
#include "_topics.h"

int resize(void **p, size_t elem, int n) { /* *p to n elements; on failure *p is left as it was */
    void *q = PyMem_Realloc(*p, (size_t)n * elem);
    if (!q) {
        PyErr_NoMemory();
        return -1;
    }
    *p = q;
    return 0;
}

/* ---- terms and postings --------------------------------------------------------------------------------- */
static int grow_terms(Core *s) { /* every per-term array, to twice its length */
    int n = s->term_alloc ? s->term_alloc * 2 : 1024;
    if (resize((void **)&s->id2term, sizeof(PyObject *), n) < 0 || resize((void **)&s->tcount, sizeof(int), n) < 0
        || resize((void **)&s->plen, sizeof(int), n) < 0 || resize((void **)&s->free_term, sizeof(int), n) < 0
        || resize((void **)&s->post, (size_t)s->P * sizeof(int), n) < 0)
        return -1;
    s->term_alloc = n;
    return 0;
}

int term_intern(Core *s, PyObject *t) {
    int id = term_id(s, t);
    if (id >= 0 || PyErr_Occurred()) return id;
    if (s->nfree_term) id = s->free_term[--s->nfree_term];
    else {
        if (s->nterm == s->term_alloc && grow_terms(s) < 0) return -1;
        id = s->nterm++;
    }
    PyObject *v = PyLong_FromLong(id);
    if (!v || PyDict_SetItem(s->term2id, t, v) < 0) {
        Py_XDECREF(v);
        s->free_term[s->nfree_term++] = id; /* free_term is as long as id2term */
        return -1;
    }
    Py_DECREF(v);
    Py_INCREF(t);
    s->id2term[id] = t;
    s->tcount[id] = 0;
    s->plen[id] = 0;
    return id;
}

int term_release(Core *s, int id) { /* one topic less holds it; forget a term no topic holds */
    if (--s->tcount[id] > 0) return 0;
    PyObject *t = s->id2term[id];
    int r = PyDict_DelItem(s->term2id, t);
    Py_DECREF(t);
    s->id2term[id] = NULL;
    s->free_term[s->nfree_term++] = id;
    return r;
}

void post_remove(Core *s, int id, int slot) {
    int *p = s->post + (size_t)id * s->P, n = s->plen[id];
    for (int i = 0; i < n; i++)
        if (p[i] == slot) {
            memmove(p + i, p + i + 1, (size_t)(n - i - 1) * sizeof(int));
            s->plen[id] = n - 1;
            return;
        }
}

void post_touch(Core *s, int id, int slot) { /* reference: PyTopicClusterer._post */
    post_remove(s, id, slot);
    int *p = s->post + (size_t)id * s->P, n = s->plen[id];
    if (n == s->P) { /* the least recent topic is no longer found through this term */
        memmove(p, p + 1, (size_t)(n - 1) * sizeof(int));
        n--;
    }
    p[n] = slot;
    s->plen[id] = n + 1;
}

/* ---- topics --------------------------------------------------------------------------------------------- */
int topic_add_term(Core *s, Topic *t, int id, double w) {
    if (t->nterms == t->cap) {
        int n = t->cap ? t->cap * 2 : 8;
        if (resize((void **)&t->term, sizeof(int), n) < 0 || resize((void **)&t->w, sizeof(double), n) < 0)
            return -1;
        t->cap = n;
    }
    t->term[t->nterms] = id;
    t->w[t->nterms++] = w;
    s->tcount[id]++;
    return 0;
}

int topic_new(Core *s, PyObject *tid) { /* a slot for a new topic, registered under tid */
    int slot;
    if (s->ntfree) slot = s->tfree[--s->ntfree];
    else {
        if (s->ntp == s->tp_alloc) {
            int n = s->tp_alloc ? s->tp_alloc * 2 : 256;
            if (resize((void **)&s->tp, sizeof(Topic), n) < 0 || resize((void **)&s->tfree, sizeof(int), n) < 0)
                return -1;
            s->tp_alloc = n;
        }
        slot = s->ntp++;
        memset(&s->tp[slot], 0, sizeof(Topic));
    }
    Topic *t = &s->tp[slot];
    PyObject *v = PyLong_FromLong(slot);
    if (!v || PyDict_SetItem(s->tid2slot, tid, v) < 0) {
        Py_XDECREF(v);
        s->tfree[s->ntfree++] = slot;
        return -1;
    }
    Py_DECREF(v);
    Py_INCREF(tid);
    t->tid = tid;
    t->label = PyUnicode_FromString("");
    t->n = t->last = 0;
    t->created = s->created++;
    t->norm = 1.0;
    t->nterms = 0;
    t->nlab = -1;
    t->stamp = 0;
    s->live++;
    return t->label ? slot : -1;
}

int topic_drop(Core *s, int slot) {
    Topic *t = &s->tp[slot];
    int r = 0;
    for (int i = 0; i < t->nterms; i++) {
        post_remove(s, t->term[i], slot);
        if (term_release(s, t->term[i]) < 0) r = -1;
    }
    t->nterms = 0;
    if (PyDict_DelItem(s->tid2slot, t->tid) < 0) r = -1;
    Py_CLEAR(t->tid);
    Py_CLEAR(t->label);
    s->tfree[s->ntfree++] = slot;
    s->live--;
    return r;
}

/* ---- recent SimHashes ----------------------------------------------------------------------------------- */
static void link_hash(Core *s, Py_ssize_t e) {
    uint64_t h = s->hh[e];
    for (int b = 0; b < NBANDS; b++) {
        int key = b * NBUCKETS + (int)((h >> (16 * b)) & 0xFFFF);
        s->hnext[e * NBANDS + b] = -1;
        if (s->tail[key] < 0) s->head[key] = (int)e;
        else s->hnext[(Py_ssize_t)s->tail[key] * NBANDS + b] = (int)e;
        s->tail[key] = (int)e;
    }
}

void remember_hash(Core *s, uint64_t h, PyObject *tid) {
    Py_ssize_t e = s->hlen++;
    s->hh[e] = h;
    Py_INCREF(tid);
    s->htid[e] = tid;
    link_hash(s, e);
    if ((double)s->hlen > (double)s->recent * 1.2) { /* keep the last `recent`, relinked in order */
        Py_ssize_t drop = s->hlen - s->recent;
        for (Py_ssize_t i = 0; i < drop; i++) Py_DECREF(s->htid[i]);
        memmove(s->hh, s->hh + drop, (size_t)s->recent * sizeof(uint64_t));
        memmove(s->htid, s->htid + drop, (size_t)s->recent * sizeof(PyObject *));
        s->hlen = s->recent;
        memset(s->head, 0xff, NBANDS * NBUCKETS * sizeof(int));
        memset(s->tail, 0xff, NBANDS * NBUCKETS * sizeof(int));
        for (Py_ssize_t i = 0; i < s->hlen; i++) link_hash(s, i);
    }
}

int near_dup(Core *s, uint64_t h) {
    for (int b = 0; b < NBANDS; b++)
        for (int e = s->head[b * NBUCKETS + (int)((h >> (16 * b)) & 0xFFFF)]; e >= 0;
             e = s->hnext[(Py_ssize_t)e * NBANDS + b])
            if (__builtin_popcountll(s->hh[e] ^ h) <= s->dup_bits) {
                int slot = slot_of(s, s->htid[e]);
                if (slot >= 0 || PyErr_Occurred()) return slot;
            }
    return -1;
}



int by_last(const void *a, const void *b) {
    const Order *x = a, *y = b;
    if (x->last != y->last) return x->last < y->last ? -1 : 1;
    return x->created < y->created ? -1 : x->created > y->created;
}

int by_created(const void *a, const void *b) {
    const Order *x = a, *y = b;
    return x->created < y->created ? -1 : x->created > y->created;
}

Order *live_topics(Core *s, int (*cmp)(const void *, const void *)) {
    Order *o = PyMem_Malloc((size_t)(s->live + 1) * sizeof(Order));
    if (!o) { PyErr_NoMemory(); return NULL; }
    Py_ssize_t k = 0;
    for (int i = 0; i < s->ntp; i++)
        if (s->tp[i].tid) o[k++] = (Order){s->tp[i].last, s->tp[i].created, i};
    qsort(o, (size_t)k, sizeof(Order), cmp);
    return o;
}


/* ---- the whole ------------------------------------------------------------------------------------------ */
void core_clear(Core *s) {
    for (int i = 0; i < s->ntp; i++) {
        Py_CLEAR(s->tp[i].tid);
        Py_CLEAR(s->tp[i].label);
        PyMem_Free(s->tp[i].term);
        PyMem_Free(s->tp[i].w);
    }
    for (int i = 0; i < s->nterm; i++) Py_CLEAR(s->id2term[i]);
    for (Py_ssize_t i = 0; i < s->hlen; i++) Py_CLEAR(s->htid[i]);
    PyMem_Free(s->tp); PyMem_Free(s->tfree);
    PyMem_Free(s->id2term); PyMem_Free(s->tcount); PyMem_Free(s->plen); PyMem_Free(s->post);
    PyMem_Free(s->free_term);
    PyMem_Free(s->hh); PyMem_Free(s->htid); PyMem_Free(s->hnext); PyMem_Free(s->head); PyMem_Free(s->tail);
    PyMem_Free(s->cand); PyMem_Free(s->dot);
    Py_CLEAR(s->tid2slot);
    Py_CLEAR(s->term2id);
    s->tp = NULL; s->tfree = NULL; s->ntp = s->tp_alloc = s->ntfree = 0; s->live = 0;
    s->id2term = NULL; s->tcount = s->plen = s->post = s->free_term = NULL;
    s->nterm = s->nfree_term = s->term_alloc = 0;
    s->hh = NULL; s->htid = NULL; s->hnext = s->head = s->tail = NULL; s->hlen = 0;
    s->cand = NULL; s->dot = NULL; s->cand_alloc = 0;
    s->seq = s->created = 0;
    s->stamp = 0;
    s->ready = 0;
}

int core_reset(Core *s) { /* empty, ready to assign */
    core_clear(s);
    s->hcap = (Py_ssize_t)((double)s->recent * 1.2) + 2;
    s->tid2slot = PyDict_New();
    s->term2id = PyDict_New();
    s->hh = PyMem_Malloc((size_t)s->hcap * sizeof(uint64_t));
    s->htid = PyMem_Malloc((size_t)s->hcap * sizeof(PyObject *));
    s->hnext = PyMem_Malloc((size_t)s->hcap * NBANDS * sizeof(int));
    s->head = PyMem_Malloc(NBANDS * NBUCKETS * sizeof(int));
    s->tail = PyMem_Malloc(NBANDS * NBUCKETS * sizeof(int));
    if (!s->tid2slot || !s->term2id || !s->hh || !s->htid || !s->hnext || !s->head || !s->tail) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    memset(s->head, 0xff, NBANDS * NBUCKETS * sizeof(int));
    memset(s->tail, 0xff, NBANDS * NBUCKETS * sizeof(int));
    s->ready = 1;
    return 0;
}

