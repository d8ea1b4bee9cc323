/* The compiled topic clusterer's state(): the reference's layout and order; load_state() never leaves half. */
#include "_topics.h"

PyObject *Core_state(Core *s, PyObject *Py_UNUSED(ignored)) {
    PyObject *topics = PyList_New(0), *hashes = PyList_New(0), *out = NULL;
    Order *o = topics && hashes ? live_topics(s, by_created) : NULL;
    if (!o) goto done;
    for (Py_ssize_t i = 0; i < s->live; i++) {
        Topic *t = &s->tp[o[i].slot];
        PyObject *terms = PyDict_New(), *row;
        for (int j = 0; terms && j < t->nterms; j++) {
            PyObject *w = PyFloat_FromDouble(t->w[j]);
            if (!w || PyDict_SetItem(terms, s->id2term[t->term[j]], w) < 0) Py_CLEAR(terms);
            Py_XDECREF(w);
        }
        row = terms ? Py_BuildValue("[OOLLO]", t->tid, terms, t->n, t->last, t->label) : NULL;
        Py_XDECREF(terms);
        if (!row || PyList_Append(topics, row) < 0) { Py_XDECREF(row); goto done; }
        Py_DECREF(row);
    }
    for (Py_ssize_t e = s->hlen > s->recent ? s->hlen - s->recent : 0; e < s->hlen; e++) {
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)s->hh[e]);
        PyObject *row = Py_BuildValue("[sO]", hex, s->htid[e]);
        if (!row || PyList_Append(hashes, row) < 0) { Py_XDECREF(row); goto done; }
        Py_DECREF(row);
    }
    out = Py_BuildValue("{sLsOsO}", "seq", s->seq, "topics", topics, "hashes", hashes);
done:
    PyMem_Free(o);
    Py_XDECREF(topics);
    Py_XDECREF(hashes);
    return out;
}

static int load_topic(Core *s, PyObject *row) { /* [tid, {term: weight}, n, last, label] */
    PyObject *f = PySequence_Fast(row, "a topic in the state must be [tid, terms, n, last, label]"), *items = NULL;
    int r = -1;
    if (!f) return -1;
    if (PySequence_Fast_GET_SIZE(f) != 5) {
        PyErr_SetString(PyExc_ValueError, "a topic in the state must be [tid, terms, n, last, label]");
        goto done;
    }
    PyObject **v = PySequence_Fast_ITEMS(f);
    int has = PyDict_Contains(s->tid2slot, v[0]);
    if (has) {
        if (has > 0) PyErr_Format(PyExc_ValueError, "topic %R appears twice in the state", v[0]);
        goto done;
    }
    long long n = PyLong_AsLongLong(v[2]), last = n == -1 && PyErr_Occurred() ? -1 : PyLong_AsLongLong(v[3]);
    if ((n == -1 || last == -1) && PyErr_Occurred()) goto done;
    if (!(items = PyMapping_Items(v[1]))) goto done;
    int slot = topic_new(s, v[0]);
    if (slot < 0) goto done;
    Py_INCREF(v[4]);
    Py_SETREF(s->tp[slot].label, v[4]);
    s->tp[slot].n = n;
    s->tp[slot].last = last;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i), *term;
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) {
            PyErr_Format(PyExc_ValueError, "topic %R: its terms must map a term to a weight", v[0]);
            goto done;
        }
        term = PyObject_Str(PyTuple_GET_ITEM(kv, 0));
        double w = PyFloat_AsDouble(PyTuple_GET_ITEM(kv, 1));
        if (term && !(w == -1.0 && PyErr_Occurred()) && !isfinite(w)) {
            PyErr_Format(PyExc_ValueError, "topic %R: the weight of %R is not a finite number", v[0], term);
            Py_DECREF(term);
            goto done;
        }
        int id = term && !(w == -1.0 && PyErr_Occurred()) ? term_intern(s, term) : -1;
        Py_XDECREF(term);
        if (id < 0) goto done;
        Topic *t = &s->tp[slot];
        int pos = topic_find(t, id);
        if (pos >= 0) t->w[pos] = w;
        else if (topic_add_term(s, t, id, w) < 0) goto done;
    }
    s->tp[slot].norm = norm_of(s->tp[slot].w, s->tp[slot].nterms);
    r = 0;
done:
    Py_XDECREF(items);
    Py_DECREF(f);
    return r;
}

PyObject *Core_load_state(Core *s, PyObject *state) {
    PyObject *seq = NULL, *topics = NULL, *hashes = NULL;
    if (!PyDict_Check(state)) return PyErr_Format(PyExc_TypeError, "the state must be a dict");
    if (core_reset(s) < 0) return NULL;
    PyObject *v = PyDict_GetItemString(state, "seq");
    if (v) {
        s->seq = PyLong_AsLongLong(v);
        if (s->seq == -1 && PyErr_Occurred()) goto fail;
    }
    v = PyDict_GetItemString(state, "topics");
    if (v && !(topics = PySequence_Fast(v, "the state's topics must be a list"))) goto fail;
    for (Py_ssize_t i = 0; topics && i < PySequence_Fast_GET_SIZE(topics); i++)
        if (load_topic(s, PySequence_Fast_GET_ITEM(topics, i)) < 0) goto fail;
    Order *o = live_topics(s, by_last); /* each term's topics, least recently updated first */
    if (!o) goto fail;
    for (Py_ssize_t i = 0; i < s->live; i++) {
        Topic *t = &s->tp[o[i].slot];
        for (int j = 0; j < t->nterms; j++) post_touch(s, t->term[j], o[i].slot);
    }
    PyMem_Free(o);
    v = PyDict_GetItemString(state, "hashes");
    if (v && !(hashes = PySequence_Fast(v, "the state's hashes must be a list"))) goto fail;
    for (Py_ssize_t i = 0; hashes && i < PySequence_Fast_GET_SIZE(hashes); i++) {
        PyObject *row = PySequence_Fast(PySequence_Fast_GET_ITEM(hashes, i), "a hash must be [hex, tid]"), *hv;
        if (!row) goto fail;
        if (PySequence_Fast_GET_SIZE(row) != 2 || !PyUnicode_Check(PySequence_Fast_GET_ITEM(row, 0))) {
            PyErr_SetString(PyExc_ValueError, "a hash in the state must be [hex, tid]");
            Py_DECREF(row);
            goto fail;
        }
        hv = PyLong_FromUnicodeObject(PySequence_Fast_GET_ITEM(row, 0), 16);
        uint64_t h = hv ? PyLong_AsUnsignedLongLong(hv) : (uint64_t)-1;
        Py_XDECREF(hv);
        if (h == (uint64_t)-1 && PyErr_Occurred()) { Py_DECREF(row); goto fail; }
        remember_hash(s, h, PySequence_Fast_GET_ITEM(row, 1));
        Py_DECREF(row);
    }
    Py_XDECREF(seq);
    Py_XDECREF(topics);
    Py_XDECREF(hashes);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(topics);
    Py_XDECREF(hashes);
    core_reset(s); /* never half a state */
    return NULL;
}

