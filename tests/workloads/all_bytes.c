/* Writes buffers that hold every byte value in every neighbourhood strace's quoting cares about:
 * after each byte comes a digit 0-9 or a letter, so octal escapes must be short or three digits.
 * tests/test_quote.py compares strace's rendering with tracespec's. */
#include <unistd.h>

int main(void)
{
    static const char next[] = "0178 9ax";
    char buf[512];
    for (unsigned n = 0; n < sizeof(next) - 1; n++) {
        unsigned len = 0;
        for (unsigned c = 0; c < 256; c++) {
            buf[len++] = (char)c;
            buf[len++] = next[n];
        }
        write(-1, buf, len);
    }
    return 0;
}
