use jsec::crypto::Key;
use jsec::fspe::{Cipher, Options, Rule};
fn main() {
    let key = Key::from_bytes(&[0x42; 32]).unwrap();
    for path in std::env::args().skip(1) {
        let orig = std::fs::read(&path).unwrap();
        for rule in [Rule::Full, Rule::Paper] {
            let c = Cipher::new(
                key.clone(),
                Options {
                    rule,
                    ..Default::default()
                },
            )
            .unwrap();
            let mut buf = orig.clone();
            match c.encrypt(&mut buf) {
                Ok(r) => {
                    let out = format!(
                        "/tmp/smoke/{}.{:?}.jpg",
                        std::path::Path::new(&path)
                            .file_name()
                            .unwrap()
                            .to_str()
                            .unwrap(),
                        rule
                    );
                    std::fs::write(&out, &buf).unwrap();
                    let changed = orig.iter().zip(&buf).filter(|(a, b)| a != b).count();
                    let mut dec = buf.clone();
                    c.decrypt(&mut dec).unwrap();
                    println!("{path} {rule:?}: imgs={} enc_bits={} changed_bytes={changed} roundtrip={} warn={:?}", r.images.len(), r.images[0].stats.encrypted, dec == orig, r.warnings);
                }
                Err(e) => println!("{path} {rule:?}: ERR {:?} {e}", e.kind()),
            }
        }
    }
}
