/* The baseline of `make bench`: a plain libmodbus client reading COUNT
 * registers in requests of 125 as fast as it can for SECONDS.
 * Usage: c-loop HOST PORT COUNT SECONDS; prints "<registers per second>". */
#include <modbus.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: c-loop HOST PORT COUNT SECONDS\n"); return 2; }
    int count = atoi(argv[3]);
    double seconds = atof(argv[4]);
    modbus_t *ctx = modbus_new_tcp(argv[1], atoi(argv[2]));
    if (!ctx || modbus_connect(ctx) != 0) { fprintf(stderr, "connect: %s\n", modbus_strerror(errno)); return 1; }
    uint16_t regs[125];
    long registers = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        for (int a = 0; a < count; a += 125) {
            int n = count - a < 125 ? count - a : 125;
            if (modbus_read_registers(ctx, a, n, regs) != n) { fprintf(stderr, "read: %s\n", modbus_strerror(errno)); return 1; }
            registers += n;
        }
    }
    printf("%.0f\n", registers / (now() - start));
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}
