//! A procedurally drawn, photo-like landscape for `jsec demo` and the benches:
//! gradient sky with clouds, a sun with a glow, three layers of hills with
//! texture, a few trees, and film grain. Deterministic (no randomness source).

/// An RGB image, 3 bytes per pixel, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes.
    pub pixels: Vec<u8>,
}

/// A 32-bit integer hash of a lattice point (deterministic).
fn hash(x: i32, y: i32, seed: u32) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x27d4_eb2d)
        ^ (y as u32).wrapping_mul(0x1656_67b1)
        ^ seed.wrapping_mul(0x9e37_79b9);
    h ^= h >> 15;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

fn unit(h: u32) -> f32 {
    (h >> 8) as f32 / (1u32 << 24) as f32
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in [0, 1).
fn noise(x: f32, y: f32, seed: u32) -> f32 {
    let (xf, yf) = (x.floor(), y.floor());
    let (xi, yi) = (xf as i32, yf as i32);
    let (tx, ty) = (smooth(x - xf), smooth(y - yf));
    let a = unit(hash(xi, yi, seed));
    let b = unit(hash(xi + 1, yi, seed));
    let c = unit(hash(xi, yi + 1, seed));
    let d = unit(hash(xi + 1, yi + 1, seed));
    let top = a + (b - a) * tx;
    let bottom = c + (d - c) * tx;
    top + (bottom - top) * ty
}

/// Fractal sum of `octaves` noise layers, in [0, 1).
fn fbm(x: f32, y: f32, octaves: u32, seed: u32) -> f32 {
    let (mut sum, mut amp, mut norm, mut f) = (0.0, 0.5, 0.0, 1.0);
    for o in 0..octaves {
        sum += amp * noise(x * f, y * f, seed.wrapping_add(o * 101));
        norm += amp;
        amp *= 0.5;
        f *= 2.0;
    }
    sum / norm
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Draw the landscape at `width` x `height` (any size; proportions scale).
pub fn landscape(width: usize, height: usize) -> Rgb {
    let w = width as f32;
    let h = height as f32;
    let s = h / 768.0; // scale relative to the 1024x768 design
    let horizon = 0.62 * h;
    let sun = (0.72 * w, 0.28 * h, 55.0 * s);

    // Ridge lines per column.
    let far: Vec<f32> = (0..width)
        .map(|x| {
            let xs = x as f32 / s;
            0.50 * h - 110.0 * s * fbm(xs / 260.0, 0.5, 5, 7)
        })
        .collect();
    let mid: Vec<f32> = (0..width)
        .map(|x| {
            let xs = x as f32 / s;
            0.66 * h + 30.0 * s * (xs / 140.0).sin() + 18.0 * s * (xs / 57.0 + 1.0).sin()
        })
        .collect();
    let near: Vec<f32> = (0..width)
        .map(|x| {
            let xs = x as f32 / s;
            0.82 * h + 26.0 * s * (xs / 210.0 + 2.0).sin() + 12.0 * s * (xs / 43.0).sin()
        })
        .collect();

    // Trees on the middle hill: (x, height).
    let trees: Vec<(f32, f32)> = (0..18)
        .map(|i| {
            let x = unit(hash(i, 3, 11)) * w;
            let ht = (28.0 + 40.0 * unit(hash(i, 5, 11))) * s;
            (x, ht)
        })
        .collect();

    let mut pixels = vec![0u8; width * height * 3];
    for y in 0..height {
        let yf = y as f32;
        for x in 0..width {
            let xf = x as f32;
            let (xs, ys) = (xf / s, yf / s);
            let mut c;
            if yf < far[x] {
                // Sky: gradient, sun glow, clouds.
                let t = yf / horizon;
                c = mix([28.0, 72.0, 150.0], [225.0, 196.0, 160.0], t.powf(1.6));
                let d = ((xf - sun.0).powi(2) + (yf - sun.1).powi(2)).sqrt();
                let glow = (-d / (130.0 * s)).exp();
                c[0] += 90.0 * glow;
                c[1] += 70.0 * glow;
                c[2] += 30.0 * glow;
                if d < sun.2 {
                    let edge = ((sun.2 - d) / (3.0 * s)).min(1.0);
                    c = mix(c, [255.0, 246.0, 215.0], edge);
                }
                let cloud = fbm(xs / 170.0, ys / 55.0, 5, 21);
                let cover = ((cloud - 0.52) * 4.0).clamp(0.0, 1.0) * (1.0 - t * 0.6);
                let shade = 0.82 + 0.18 * fbm(xs / 40.0, ys / 20.0, 3, 23);
                c = mix(
                    c,
                    [250.0 * shade, 248.0 * shade, 245.0 * shade],
                    cover * 0.85,
                );
            } else if yf < mid[x] {
                // Far mountains, hazy blue-grey with rock texture.
                let rock = fbm(xs / 35.0, ys / 18.0, 4, 31);
                let depth = ((yf - far[x]) / (60.0 * s)).min(1.0);
                c = mix([120.0, 132.0, 165.0], [85.0, 100.0, 120.0], depth * 0.6);
                c = mix(c, [150.0, 150.0, 160.0], rock * 0.4);
            } else if yf < near[x] {
                // Middle hill: meadow greens.
                let g = fbm(xs / 60.0, ys / 25.0, 5, 41);
                let fine = noise(xs / 3.0, ys / 3.0, 43);
                c = mix([78.0, 128.0, 52.0], [140.0, 150.0, 70.0], g);
                let k = 0.85 + 0.25 * fine;
                c = [c[0] * k, c[1] * k, c[2] * k];
            } else {
                // Foreground: darker grass with strong texture.
                let g = fbm(xs / 30.0, ys / 12.0, 5, 51);
                let blade = noise(xs / 1.7, ys / 6.0, 53);
                c = mix([38.0, 86.0, 30.0], [96.0, 120.0, 44.0], g);
                let k = 0.7 + 0.5 * blade;
                c = [c[0] * k, c[1] * k, c[2] * k];
            }
            // Trees stand on the middle hill's ridge.
            for &(tx, th) in &trees {
                let base = mid[(tx as usize).min(width - 1)] + 4.0 * s;
                let top = base - th;
                if yf >= top && yf < base && yf < near[x] {
                    let half = (yf - top) / th * th * 0.28;
                    if (xf - tx).abs() < half {
                        let leaf = noise(xs / 2.5, ys / 2.5, 61);
                        c = mix([22.0, 52.0, 28.0], [48.0, 84.0, 40.0], leaf);
                    }
                }
            }
            // Film grain.
            let grain = (unit(hash(x as i32, y as i32, 99)) - 0.5) * 10.0;
            let o = (y * width + x) * 3;
            for (i, v) in c.iter().enumerate() {
                pixels[o + i] = (v + grain).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Rgb {
        width,
        height,
        pixels,
    }
}

/// Downscale by averaging each target pixel's source area (box filter).
pub fn downscale(src: &Rgb, width: usize, height: usize) -> Rgb {
    let mut pixels = vec![0u8; width * height * 3];
    for ty in 0..height {
        let y0 = ty * src.height / height;
        let y1 = ((ty + 1) * src.height / height).max(y0 + 1);
        for tx in 0..width {
            let x0 = tx * src.width / width;
            let x1 = ((tx + 1) * src.width / width).max(x0 + 1);
            let mut acc = [0u32; 3];
            for y in y0..y1 {
                for x in x0..x1 {
                    let o = (y * src.width + x) * 3;
                    for (i, a) in acc.iter_mut().enumerate() {
                        *a += u32::from(src.pixels[o + i]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            let o = (ty * width + tx) * 3;
            for (i, a) in acc.iter().enumerate() {
                pixels[o + i] = ((a + n / 2) / n) as u8;
            }
        }
    }
    Rgb {
        width,
        height,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn landscape_is_deterministic_and_varied() {
        let a = super::landscape(64, 48);
        assert_eq!(a, super::landscape(64, 48));
        assert_eq!(a.pixels.len(), 64 * 48 * 3);
        // Sky (top) is bluer than the foreground (bottom).
        let top = &a.pixels[..3];
        let bottom = &a.pixels[a.pixels.len() - 3..];
        assert!(top[2] > bottom[2]);
        let t = super::downscale(&a, 16, 12);
        assert_eq!(t.pixels.len(), 16 * 12 * 3);
    }
}
