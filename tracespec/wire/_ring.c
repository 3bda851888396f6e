/*
 * The BPF ring buffer's framing walked in C: the one loop of tracespec's reader that runs once per
 * record whatever the output. In CPython it cost 130 ns a record to find where the committed records
 * end (a binary trace) and 230 ns to cut them into bytes (text and JSON), here 16 and 22, when two
 * busy cores make 5 to 7 million records a second. tracespec/wire/ring.py has the same two functions
 * in Python, used when this module was not built, and says what they return;
 * tests/unit/test_ring_walk.py holds the two to the same answers.
 *
 * The framing (kernel/bpf/ringbuf.c): per record an 8-byte header, a u32 length with the BUSY (still
 * being written) and DISCARD bits and a u32 page offset, then the record, padded to 8 bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define TS_BUSY (1u << 31)
#define TS_DISCARD (1u << 30)
#define TS_LENGTH (TS_DISCARD - 1)

/* committed(buffer, start, available, limit) -> bytes: how many bytes from `start` of the mapped ring
 * hold whole records the kernel has committed, walking at most `available` bytes (up to the producer
 * position) and stopping once at least `limit` are counted (always at least the first record). The
 * header is loaded with acquire semantics: the kernel stores it with release after the record. */
static PyObject *committed(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start, available, limit;
    if (!PyArg_ParseTuple(args, "y*nnn", &view, &start, &available, &limit))
        return NULL;
    if (start < 0 || available < 0 || start > view.len || available > view.len - start ||
        ((uintptr_t)view.buf + (uintptr_t)start) % 4) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "committed: stretch outside the buffer, or not 4-byte aligned");
        return NULL;
    }
    const unsigned char *base = (const unsigned char *)view.buf + start;
    Py_ssize_t stop = limit < 8 ? 8 : limit, pos = 0;
    while (pos + 8 <= available && pos < stop) {
        uint32_t w = __atomic_load_n((const uint32_t *)(base + pos), __ATOMIC_ACQUIRE);
        if (w & TS_BUSY)
            break;
        Py_ssize_t next = pos + ((8 + (Py_ssize_t)(w & TS_LENGTH) + 7) & ~(Py_ssize_t)7);
        if (next > available)
            break;
        pos = next;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(pos);
}

/* split(data) -> (records, stop): the payloads of a drained stretch's records (discarded ones left out)
 * as bytes, and the offset of the first record that is not whole (cut short, or still being written),
 * None when every byte was used. */
static PyObject *split(PyObject *self, PyObject *args)
{
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    const unsigned char *data = view.buf;
    Py_ssize_t whole = view.len & ~(Py_ssize_t)7, pos = 0;
    PyObject *out = PyList_New(0);
    if (!out)
        goto fail;
    while (pos < whole) {
        uint32_t w;
        memcpy(&w, data + pos, sizeof(w));   /* the buffer may start anywhere */
        Py_ssize_t end = pos + 8 + (Py_ssize_t)(w & TS_LENGTH);
        if (end > whole || (w & TS_BUSY))
            break;
        if (!(w & TS_DISCARD)) {
            PyObject *rec = PyBytes_FromStringAndSize((const char *)data + pos + 8, end - pos - 8);
            if (!rec || PyList_Append(out, rec) < 0) {
                Py_XDECREF(rec);
                goto fail;
            }
            Py_DECREF(rec);
        }
        pos = (end + 7) & ~(Py_ssize_t)7;
    }
    PyObject *stop = pos != view.len ? PyLong_FromSsize_t(pos) : (Py_INCREF(Py_None), Py_None);
    PyBuffer_Release(&view);
    if (!stop) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, out, stop);
    Py_DECREF(out);
    Py_DECREF(stop);
    return result;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"committed", committed, METH_VARARGS, "Bytes of whole committed records from start (see _ring.c)."},
    {"split", split, METH_VARARGS, "(records, stop) of a drained stretch (see _ring.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ring", "The ring buffer's framing, walked in C.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__ring(void)
{
    return PyModule_Create(&module);
}
