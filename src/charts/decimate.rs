//! Decimation per pixel column: for each column keep the first, the minimum, the maximum and the
//! last point (in x order), so a series of a million points draws like one of a few thousand and
//! every spike survives.

/// `points` sorted by x; `columns` pixel columns across [x0, x1]. Points outside are dropped.
pub fn min_max(points: &[(f64, f64)], x0: f64, x1: f64, columns: usize) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    if points.len() <= columns * 4 || x1 <= x0 {
        return points
            .iter()
            .copied()
            .filter(|(x, y)| *x >= x0 && *x <= x1 && y.is_finite())
            .collect();
    }
    let width = (x1 - x0) / columns as f64;
    let mut out = Vec::with_capacity(columns * 4);
    let mut current: Option<(usize, [(f64, f64); 4])> = None; // column, [first, min, max, last]
    let flush = |out: &mut Vec<(f64, f64)>, c: [(f64, f64); 4]| {
        let [first, min, max, last] = c;
        let mut pts = [first, min, max, last];
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        for p in pts {
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
    };
    for &(x, y) in points {
        if x < x0 || x > x1 || !y.is_finite() {
            continue;
        }
        let col = (((x - x0) / width) as usize).min(columns - 1);
        match &mut current {
            Some((c, acc)) if *c == col => {
                if y < acc[1].1 {
                    acc[1] = (x, y);
                }
                if y > acc[2].1 {
                    acc[2] = (x, y);
                }
                acc[3] = (x, y);
            }
            _ => {
                if let Some((_, acc)) = current.take() {
                    flush(&mut out, acc);
                }
                current = Some((col, [(x, y); 4]));
            }
        }
    }
    if let Some((_, acc)) = current {
        flush(&mut out, acc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    /// Property: for random series and widths, every column's minimum and maximum are kept, and
    /// the output is bounded by 4 points per column.
    #[test]
    fn every_column_keeps_its_min_and_max() {
        let mut rng = Rng::new(99);
        for case in 0..200 {
            let n = 10 + rng.below(20_000);
            let columns = 1 + rng.below(700);
            let mut x = 0.0;
            let points: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    x += rng.range(0.0, 2.0);
                    let spike = if rng.unit() < 0.001 {
                        rng.range(-1e6, 1e6)
                    } else {
                        0.0
                    };
                    (x, rng.normal() * 10.0 + spike)
                })
                .collect();
            let (x0, x1) = (points[0].0, points[n - 1].0);
            let out = min_max(&points, x0, x1, columns);
            assert!(
                out.len() <= (columns * 4).max(n),
                "case {case}: {} points for {columns} columns",
                out.len()
            );
            if n <= columns * 4 {
                assert_eq!(out.len(), n);
                continue;
            }
            let width = (x1 - x0) / columns as f64;
            let col = |x: f64| (((x - x0) / width) as usize).min(columns - 1);
            for c in 0..columns {
                let input: Vec<f64> = points
                    .iter()
                    .filter(|p| col(p.0) == c)
                    .map(|p| p.1)
                    .collect();
                if input.is_empty() {
                    continue;
                }
                let kept: Vec<f64> = out.iter().filter(|p| col(p.0) == c).map(|p| p.1).collect();
                let max_in = input.iter().copied().fold(f64::MIN, f64::max);
                let min_in = input.iter().copied().fold(f64::MAX, f64::min);
                assert!(
                    kept.contains(&max_in) && kept.contains(&min_in),
                    "case {case} column {c}"
                );
            }
            assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "x order kept");
        }
    }
}
