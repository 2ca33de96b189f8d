/* gen_ppm: write a binary PPM (P6) test picture: a colour gradient with
 * a few shapes, deterministic for given arguments.
 *
 *   gen_ppm OUT.ppm WIDTH HEIGHT */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    FILE *f;
    long w, h, x, y;
    if (argc != 4) {
        fprintf(stderr, "usage: gen_ppm OUT.ppm WIDTH HEIGHT\n");
        return 2;
    }
    w = strtol(argv[2], NULL, 10);
    h = strtol(argv[3], NULL, 10);
    if (w <= 0 || h <= 0 || w > 8192 || h > 8192) {
        fprintf(stderr, "gen_ppm: bad size %s x %s\n", argv[2], argv[3]);
        return 2;
    }
    f = fopen(argv[1], "wb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    fprintf(f, "P6\n%ld %ld\n255\n", w, h);
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            long cx = x - w / 2, cy = y - h / 2;
            int in_disc = cx * cx + cy * cy < (w * w) / 16;
            int stripe = ((x / 8) + (y / 8)) % 2;
            unsigned char px[3];
            px[0] = (unsigned char)((x * 255) / (w > 1 ? w - 1 : 1));
            px[1] = (unsigned char)((y * 255) / (h > 1 ? h - 1 : 1));
            px[2] = (unsigned char)(in_disc ? 230 : (stripe ? 40 : 120));
            if (fwrite(px, 1, 3, f) != 3) {
                perror(argv[1]);
                fclose(f);
                return 1;
            }
        }
    }
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
