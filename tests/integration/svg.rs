//! The SVG figures are well-formed XML with labelled axes, byte-stable, and laid out so that no
//! label is clipped or covers another: every text element's estimated extent (the renderer's own
//! generous estimate, 0.6 em a character) lies inside the viewBox, and no two overlap.

use trialsim::report::svg::{LineChart, Series, Waterfall, WaterfallStep, line_chart, waterfall};

fn power_curve() -> LineChart {
    let n: Vec<f64> = (0..6).map(|i| 140.0 + 20.0 * f64::from(i)).collect();
    let power = [0.68, 0.74, 0.797, 0.84, 0.875, 0.90];
    LineChart {
        title: "Power of primary by sample size".into(),
        subtitle: "bands: 95% Monte Carlo interval".into(),
        x_label: "participants per arm".into(),
        y_label: "power (one-sided α = 5 %)".into(),
        series: vec![Series {
            name: "simulated".into(),
            points: n.iter().copied().zip(power).collect(),
            band: n
                .iter()
                .zip(power)
                .map(|(&x, p)| (x, p - 0.02, p + 0.02))
                .collect(),
        }],
        y_range: Some((0.5, 1.0)),
        reference: Some((0.8, "80 % target".into())),
        marker: Some((180.0, 0.797, "spec: 180 per arm".into())),
        y_percent: true,
    }
}

fn dilution() -> Waterfall {
    let step = |label: &str, value: f64, note: &str| WaterfallStep {
        label: label.into(),
        value,
        note: note.into(),
    };
    Waterfall {
        title: "From the effect among guided clients to the ITT effect".into(),
        y_label: "effect (percentage points)".into(),
        steps: vec![
            step("guided clients", 0.1333, "power 97%"),
            step("Team Zorg 25 %", 0.0958, "power 80%"),
            step("ITT effect", 0.0958, "power 80%"),
        ],
        percent_points: true,
    }
}

#[test]
fn figures_are_well_formed_xml_with_labelled_axes() {
    for (svg, labels) in [
        (
            line_chart(&power_curve()),
            ["participants per arm", "power (one-sided α = 5 %)"],
        ),
        (
            waterfall(&dilution()),
            ["effect (percentage points)", "Team Zorg 25 %"],
        ),
    ] {
        let document = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
        assert_eq!(document.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> = document.descendants().filter_map(|n| n.text()).collect();
        for label in labels {
            assert!(
                texts.contains(&label),
                "missing text {label:?} in {texts:?}"
            );
        }
    }
}

#[test]
fn power_curve_snapshot() {
    insta::assert_snapshot!(line_chart(&power_curve()));
}

#[test]
fn waterfall_snapshot() {
    insta::assert_snapshot!(waterfall(&dilution()));
}

/// The box `[x0, y0, x1, y1]` a text element covers, from its position, font size, anchor and
/// rotation, with the renderer's width estimate.
fn text_box(node: roxmltree::Node<'_, '_>) -> [f64; 4] {
    let num = |name: &str| -> f64 {
        node.attribute(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("text without {name}: {node:?}"))
    };
    let (x, y, size) = (num("x"), num("y"), num("font-size"));
    let text = node.text().unwrap_or_default();
    let width = trialsim::report::svg::text_width(text, size);
    let (x0, x1) = match node.attribute("text-anchor") {
        Some("middle") => (x - width / 2.0, x + width / 2.0),
        Some("end") => (x - width, x),
        _ => (x, x + width),
    };
    // Ascent above the baseline and descent below it.
    let (y0, y1) = (y - 0.8 * size, y + 0.25 * size);
    let corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)];
    let rotated: Vec<(f64, f64)> = match node.attribute("transform") {
        Some(t) if t.starts_with("rotate(") => {
            let args: Vec<f64> = t
                .trim_start_matches("rotate(")
                .trim_end_matches(')')
                .split_whitespace()
                .map(|v| v.parse().expect("a number"))
                .collect();
            let (angle, cx, cy) = (args[0].to_radians(), args[1], args[2]);
            corners
                .iter()
                .map(|&(px, py)| {
                    let (dx, dy) = (px - cx, py - cy);
                    (
                        cx + dx * angle.cos() - dy * angle.sin(),
                        cy + dx * angle.sin() + dy * angle.cos(),
                    )
                })
                .collect()
        }
        Some(other) => panic!("unexpected transform {other}"),
        None => corners.to_vec(),
    };
    let xs = rotated.iter().map(|p| p.0);
    let ys = rotated.iter().map(|p| p.1);
    [
        xs.clone().fold(f64::INFINITY, f64::min),
        ys.clone().fold(f64::INFINITY, f64::min),
        xs.fold(f64::NEG_INFINITY, f64::max),
        ys.fold(f64::NEG_INFINITY, f64::max),
    ]
}

/// Every text of `svg` lies inside its viewBox and no two texts overlap.
pub fn assert_labels_fit(svg: &str) {
    let document = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let view: Vec<f64> = document
        .root_element()
        .attribute("viewBox")
        .expect("a viewBox")
        .split_whitespace()
        .map(|v| v.parse().expect("a number"))
        .collect();
    let boxes: Vec<(String, [f64; 4])> = document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| (n.text().unwrap_or_default().to_owned(), text_box(n)))
        .collect();
    for (text, b) in &boxes {
        assert!(
            b[0] >= view[0]
                && b[1] >= view[1]
                && b[2] <= view[0] + view[2]
                && b[3] <= view[1] + view[3],
            "{text:?} at {b:?} leaves the viewBox {view:?}"
        );
    }
    for (i, (a, ba)) in boxes.iter().enumerate() {
        for (b, bb) in &boxes[i + 1..] {
            let overlap = ba[0] < bb[2] && bb[0] < ba[2] && ba[1] < bb[3] && bb[1] < ba[3];
            assert!(!overlap, "{a:?} at {ba:?} overlaps {b:?} at {bb:?}");
        }
    }
}

#[test]
fn labels_fit_and_do_not_overlap() {
    assert_labels_fit(&line_chart(&power_curve()));
    assert_labels_fit(&waterfall(&dilution()));
    // Long labels: a first step whose rotated label used to leave the picture, and a legend
    // of long parameter names.
    let mut long = dilution();
    long.steps[0].label = "coaching as planned, for every client who took it up".into();
    long.steps[1].label = "share referred to Team Zorg at 29.3% by background (0% work)".into();
    assert_labels_fit(&waterfall(&long));
    let mut chart = power_curve();
    chart.series.push(Series {
        name: "share of experiment referred to Team Zorg: 35%, a long legend entry".into(),
        points: vec![(140.0, 0.6), (240.0, 0.8)],
        band: Vec::new(),
    });
    chart.marker = Some((240.0, 0.8, "spec: 240 per arm".into()));
    assert_labels_fit(&line_chart(&chart));
}

#[test]
fn waterfall_ticks_are_points_not_percentages() {
    let svg = waterfall(&dilution());
    let document = roxmltree::Document::parse(&svg).expect("XML");
    let ticks: Vec<&str> = document
        .descendants()
        .filter(|n| n.attribute("text-anchor") == Some("end"))
        .filter_map(|n| n.text())
        .collect();
    assert!(!ticks.is_empty());
    assert!(ticks.iter().all(|t| !t.contains('%')), "{ticks:?}");
    assert!(!svg.contains('`'));
}
