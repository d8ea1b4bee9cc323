/* The compiled topic clusterer: analyzers/topics.py's PyTopicClusterer, step for step.
 *
 * Same contract, same results: candidates are scored in the reference's order (the post's terms in order, each
 * term's topics least recent first), ties are broken the same way, every floating-point sum runs in the same order
 * (build with -ffp-contract=off), and state() has the reference's layout and order. What differs is the storage:
 * terms and topics are small integers, a term's topics are a fixed-size array, a topic's terms two parallel arrays
 * in insertion order, and the SimHash bands are chains through a log of recent hashes.
 * tests/analyzers/test_topics.py holds the two implementations equal on real posts.
 */
#include "_topics.h"

/* ---- assignment ----------------------------------------------------------------------------------------- */
typedef struct {
    PyObject *t; /* borrowed from the keywords argument */
    double w;
} VecItem;

static int scratch(Core *s, int need) { /* room for `need` candidates (or ranked terms) */
    if (need <= s->cand_alloc) return 0;
    int n = s->cand_alloc ? s->cand_alloc : 64;
    while (n < need) n *= 2;
    if (resize((void **)&s->cand, sizeof(int), n) < 0 || resize((void **)&s->dot, sizeof(double), n) < 0) return -1;
    s->cand_alloc = n;
    return 0;
}

static int update(Core *s, int slot, const VecItem *vec, int nv, double norm) { /* reference: _update */
    Topic *t = &s->tp[slot];
    t->n++;
    t->last = s->seq;
    if (!nv) return 0;
    for (int i = 0; i < nv; i++) {
        int id = term_intern(s, vec[i].t);
        if (id < 0) return -1;
        post_touch(s, id, slot);
        int pos = topic_find(t, id);
        if (pos < 0) {
            if (topic_add_term(s, t, id, 0.0) < 0) return -1;
            pos = t->nterms - 1;
        }
        t->w[pos] = t->w[pos] + vec[i].w / norm;
    }
    int n = t->nterms;
    if (scratch(s, n) < 0) return -1;
    int *idx = s->cand; /* ranked: stable sort by weight, descending (insertion sort: n is ~30) */
    for (int i = 0; i < n; i++) {
        int x = i, j = i - 1;
        while (j >= 0 && t->w[idx[j]] < t->w[x]) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = x;
    }
    int nl = n < s->label_terms ? n : s->label_terms, same = nl <= MAXLAB && t->nlab == nl;
    for (int i = 0; same && i < nl; i++) same = t->lab[i] == t->term[idx[i]];
    if (!same) {
        PyObject *parts = PyList_New(nl), *sep, *label;
        if (!parts) return -1;
        for (int i = 0; i < nl; i++) {
            PyObject *term = s->id2term[t->term[idx[i]]];
            Py_INCREF(term);
            PyList_SET_ITEM(parts, i, term);
        }
        sep = PyUnicode_FromString("/");
        label = sep ? PyUnicode_Join(sep, parts) : NULL;
        Py_XDECREF(sep);
        Py_DECREF(parts);
        if (!label) return -1;
        Py_XSETREF(t->label, label);
        t->nlab = nl <= MAXLAB ? nl : -1;
        for (int i = 0; i < nl && i < MAXLAB; i++) t->lab[i] = t->term[idx[i]];
    }
    if (n > s->max_terms) { /* the weakest terms leave the topic and their postings */
        for (int r = s->max_terms; r < n; r++) {
            int id = t->term[idx[r]];
            post_remove(s, id, slot);
            if (term_release(s, id) < 0) return -1;
            t->term[idx[r]] = -1; /* marks the removed (not a NaN weight: no weight can fake it) */
            for (int l = 0; l < t->nlab; l++) /* its id may be reused by another term: the next update relabels */
                if (t->lab[l] == id) t->nlab = -1;
        }
        int m = 0;
        for (int i = 0; i < n; i++)
            if (t->term[i] >= 0) {
                t->term[m] = t->term[i];
                t->w[m++] = t->w[i];
            }
        t->nterms = m;
    }
    t->norm = norm_of(t->w, t->nterms);
    return 0;
}


static int evict(Core *s) { /* the least recently updated topics, down to max_topics */
    Py_ssize_t k = s->live - s->max_topics;
    Order *o = live_topics(s, by_last);
    if (!o) return -1;
    int r = 0;
    for (Py_ssize_t i = 0; i < k; i++)
        if (topic_drop(s, o[i].slot) < 0) r = -1;
    PyMem_Free(o);
    return r;
}

static PyObject *assign(Core *s, PyObject *args) {
    PyObject *post_id, *hobj, *kws, *seq, *result = NULL;
    if (!PyArg_ParseTuple(args, "OOO:assign", &post_id, &hobj, &kws)) return NULL;
    uint64_t h = PyLong_AsUnsignedLongLong(hobj);
    if (h == (uint64_t)-1 && PyErr_Occurred()) return NULL;
    if (!(seq = PySequence_Fast(kws, "keywords must be a sequence of (term, weight) pairs"))) return NULL;
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    VecItem buf[32], *vec = k <= 32 ? buf : PyMem_Malloc((size_t)k * sizeof(VecItem));
    int nv = 0;
    if (!vec) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < k; i++) { /* reference: {t: w for t, w in keywords if w > 0} */
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i), *t;
        double w;
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2) {
            t = PyTuple_GET_ITEM(item, 0);
            w = PyFloat_AsDouble(PyTuple_GET_ITEM(item, 1));
        } else if (PyList_Check(item) && PyList_GET_SIZE(item) == 2) {
            t = PyList_GET_ITEM(item, 0);
            w = PyFloat_AsDouble(PyList_GET_ITEM(item, 1));
        } else {
            PyErr_Format(PyExc_TypeError, "keyword %zd is not a (term, weight) pair", i);
            goto done;
        }
        if (w == -1.0 && PyErr_Occurred()) goto done;
        if (!isfinite(w)) { /* a NaN or infinite weight would poison the topic's weights and norm */
            PyErr_Format(PyExc_ValueError, "keyword %zd: weight %R is not a finite number", i, PyTuple_Check(item)
                         ? PyTuple_GET_ITEM(item, 1) : PyList_GET_ITEM(item, 1));
            goto done;
        }
        if (!(w > 0)) continue;
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "keyword %zd: a term must be str, not %.80s", i, Py_TYPE(t)->tp_name);
            goto done;
        }
        int j = 0;
        for (; j < nv; j++) {
            int eq = PyObject_RichCompareBool(vec[j].t, t, Py_EQ);
            if (eq < 0) goto done;
            if (eq) break;
        }
        if (j < nv) vec[j].w = w; /* a repeated term keeps its first place and its last weight */
        else vec[nv++] = (VecItem){t, w};
    }
    double acc = 0.0;
    for (int i = 0; i < nv; i++) acc += vec[i].w * vec[i].w;
    double norm = acc > 0 ? sqrt(acc) : 1.0;

    s->seq++;
    int slot = h ? near_dup(s, h) : -1;
    if (slot < 0 && PyErr_Occurred()) goto done;
    if (slot < 0 && nv) { /* cosine via the inverted index, candidates in first-seen order */
        if (++s->stamp == 0) {
            for (int i = 0; i < s->ntp; i++) s->tp[i].stamp = 0;
            s->stamp = 1;
        }
        int nc = 0;
        for (int i = 0; i < nv; i++) {
            int id = term_id(s, vec[i].t);
            if (id < 0) {
                if (PyErr_Occurred()) goto done;
                continue;
            }
            const int *p = s->post + (size_t)id * s->P;
            for (int j = 0; j < s->plen[id]; j++) {
                Topic *c = &s->tp[p[j]];
                int pos = topic_find(c, id);
                if (pos < 0) continue; /* postings and topic terms always agree; never read outside w[] anyway */
                if (c->stamp != s->stamp) {
                    if (nc >= s->cand_alloc && scratch(s, nc + 1) < 0) goto done;
                    c->stamp = s->stamp;
                    c->accpos = nc;
                    s->cand[nc] = p[j];
                    s->dot[nc++] = 0.0;
                }
                s->dot[c->accpos] = s->dot[c->accpos] + vec[i].w * c->w[pos];
            }
        }
        double best_sim = s->threshold;
        for (int q = 0; q < nc; q++) {
            double sim = s->dot[q] / (norm * s->tp[s->cand[q]].norm);
            if (sim >= best_sim) {
                slot = s->cand[q];
                best_sim = sim;
            }
        }
    }
    if (slot < 0) {
        if (!nv) {
            result = Py_BuildValue("(ss)", "", "");
            goto done;
        }
        PyObject *tid = PyObject_CallOneArg(s->new_id, post_id);
        for (long r = 1; tid; r++) {
            int has = PyDict_Contains(s->tid2slot, tid);
            if (has < 0) Py_CLEAR(tid);
            if (has <= 0) break;
            Py_DECREF(tid);
            if (r > 1000) {
                PyErr_SetString(PyExc_RuntimeError, "new_id gave 1000 ids that are all taken");
                goto done;
            }
            tid = PyObject_CallFunction(s->new_id, "Ol", post_id, r);
        }
        if (!tid) goto done;
        slot = topic_new(s, tid);
        Py_DECREF(tid);
        if (slot < 0) goto done;
    }
    if (update(s, slot, vec, nv, norm) < 0) goto done;
    PyObject *tid = s->tp[slot].tid;
    if (h) remember_hash(s, h, tid);
    result = PyTuple_Pack(2, tid, s->tp[slot].label); /* before eviction, which never takes this topic anyway */
    if (result && (double)s->live > (double)s->max_topics * 1.1 && evict(s) < 0) Py_CLEAR(result);
done:
    if (vec && vec != buf) PyMem_Free(vec);
    Py_DECREF(seq);
    return result;
}


static PyObject *Core_assign(Core *s, PyObject *args) {
    if (core_enter(s) < 0) return NULL;
    PyObject *r = assign(s, args);
    core_leave(s);
    return r;
}

static PyObject *Core_label(Core *s, PyObject *tid) {
    if (core_enter(s) < 0) return NULL;
    int slot = slot_of(s, tid);
    core_leave(s);
    if (slot < 0 && PyErr_Occurred()) return NULL;
    if (slot < 0) return PyUnicode_FromString("");
    return Py_NewRef(s->tp[slot].label);
}

static PyObject *Core_state_m(Core *s, PyObject *ignored) {
    if (core_enter(s) < 0) return NULL;
    PyObject *r = Core_state(s, ignored);
    core_leave(s);
    return r;
}

static PyObject *Core_load_state_m(Core *s, PyObject *state) {
    if (!s->new_id) { /* never initialised (a failed reset may be retried: load_state resets first) */
        PyErr_SetString(PyExc_RuntimeError, "Core is not initialised: call Core(...) (or __init__) first");
        return NULL;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Core is busy: it was called again from inside one of its own calls");
        return NULL;
    }
    s->busy = 1;
    PyObject *r = Core_load_state(s, state);
    core_leave(s);
    return r;
}

static Py_ssize_t Core_len(Core *s) { return s->live; }

/* ---- the type ------------------------------------------------------------------------------------------- */
static int Core_init(Core *s, PyObject *args, PyObject *kw) {
    static char *names[] = {"threshold", "dup_bits", "max_topics", "max_terms", "label_terms", "recent_hashes",
                            "postings", "new_id", NULL};
    double threshold;
    int dup_bits, max_terms, label_terms, postings;
    Py_ssize_t max_topics, recent;
    PyObject *new_id;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "dinii" "niO:Core", names, &threshold, &dup_bits, &max_topics,
                                     &max_terms, &label_terms, &recent, &postings, &new_id))
        return -1;
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Core is busy: it was called again from inside one of its own calls");
        return -1;
    }
    if (!isfinite(threshold)) {
        PyErr_SetString(PyExc_ValueError, "threshold must be a finite number");
        return -1;
    }
    if (dup_bits < 0 || max_topics < 1 || max_terms < 1 || label_terms < 0 || recent < 1 || postings < 1) {
        PyErr_SetString(PyExc_ValueError, "dup_bits and label_terms must be >= 0, the other sizes >= 1");
        return -1;
    }
    if (max_topics > (1 << 26) || max_terms > (1 << 20) || recent > (1 << 26) || postings > 4096) {
        PyErr_SetString(PyExc_ValueError, "max_topics and recent_hashes must be <= 2**26, max_terms <= 2**20, "
                        "postings <= 4096");
        return -1;
    }
    if (!PyCallable_Check(new_id)) {
        PyErr_SetString(PyExc_TypeError, "new_id must be callable");
        return -1;
    }
    s->threshold = threshold;
    s->dup_bits = dup_bits;
    s->max_topics = max_topics;
    s->max_terms = max_terms;
    s->label_terms = label_terms;
    s->recent = recent;
    s->P = postings;
    Py_INCREF(new_id);
    Py_XSETREF(s->new_id, new_id);
    return core_reset(s);
}

static void Core_dealloc(Core *s) {
    core_clear(s);
    Py_CLEAR(s->new_id);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyMethodDef Core_methods[] = {
    {"assign", (PyCFunction)Core_assign, METH_VARARGS,
     "assign(post_id, simhash, keywords) -> (topic_id, topic_label); ('', '') for a post with no keywords and "
     "no near-duplicate"},
    {"state", (PyCFunction)Core_state_m, METH_NOARGS, "state() -> a JSON-ready dict (see load_state)"},
    {"load_state", (PyCFunction)Core_load_state_m, METH_O, "load_state(state): replace this state with a state()"},
    {"label", (PyCFunction)Core_label, METH_O, "label(topic_id) -> its label, '' for an unknown topic"},
    {NULL}};

static PyMemberDef Core_members[] = {
    {"threshold", T_DOUBLE, offsetof(Core, threshold), READONLY, "cosine needed to join a topic"},
    {"seq", T_LONGLONG, offsetof(Core, seq), READONLY, "posts assigned so far"},
    {NULL}};

static PySequenceMethods Core_as_sequence = {.sq_length = (lenfunc)Core_len};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "analyzers._topics.Core",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The compiled topic clusterer (see analyzers/topics.py)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Core_init,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_methods = Core_methods,
    .tp_members = Core_members,
    .tp_as_sequence = &Core_as_sequence,
};

static struct PyModuleDef topics_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_topics",
    .m_doc = "The compiled topic clusterer (see analyzers/topics.py)",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__topics(void) {
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *m = PyModule_Create(&topics_module);
    if (m && PyModule_AddObjectRef(m, "Core", (PyObject *)&CoreType) < 0) Py_CLEAR(m);
    return m;
}

