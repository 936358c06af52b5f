//! The SVG figures are well-formed XML with labelled axes, and byte-stable.

use trialsim::report::svg::{LineChart, Series, Waterfall, WaterfallStep, line_chart, waterfall};

fn power_curve() -> LineChart {
    let n: Vec<f64> = (0..6).map(|i| 140.0 + 20.0 * f64::from(i)).collect();
    let power = [0.68, 0.74, 0.797, 0.84, 0.875, 0.90];
    LineChart {
        title: "Power of `primary` by sample size".into(),
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
