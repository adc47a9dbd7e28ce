"""Generate the bundled example PDF (examples/docs/product-spec.pdf).

The document text is defined below; the content is entirely fictional.
Run with:  python examples/make_pdfs.py

The output is deterministic: reportlab's invariant mode fixes the creation
date and document ID, so re-running the script yields identical bytes.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config

rl_config.invariant = 1  # must be set before the document is built

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import getSampleStyleSheet  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "docs"

SPEC_TITLE = "Petrel MB-40 Wave and Weather Buoy: Product Specification"

SPEC_INTRO = [
    "Quillhaven Ocean Instruments AS, Kolvikbryggen 12, Bergen, Norway.",
    "Document number QOI-SPEC-MB40, revision C, issued on 18 May 2026.",
    "Prepared by Sunniva Kettleborough, Lead Hardware Engineer, and approved by "
    "Tomasz Oyelaran, Head of Firmware.",
    "This revision describes Petrel MB-40 buoys running PetrelOS 4.8.0 or later "
    "and replaces revision B, which was issued in September 2024.",
]

# Each section: (heading, [paragraphs]). One plain fact per sentence.
SPEC_SECTIONS: list[tuple[str, list[str]]] = [
    (
        "1. Product Overview",
        [
            "The Petrel MB-40 is a moored buoy that measures directional waves, "
            "sea surface temperature and marine weather at remote offshore sites. "
            "It was first launched in June 2023 and has been Quillhaven's flagship "
            "product since then. "
            "A standard buoy reports a summary of its measurements every 30 minutes "
            "over the Iridium satellite network. "
            "Typical customers are offshore wind developers, port authorities, "
            "national weather services and marine research institutes.",
            "The buoy is designed for unattended deployments of up to 24 months "
            "between full service visits. "
            "All measurements are stored on board, so no data is lost when the "
            "satellite link is temporarily unavailable. "
            "The buoy is assembled and calibrated at the Quillhaven headquarters "
            "in Bergen, Norway.",
        ],
    ),
    (
        "2. Physical Characteristics",
        [
            "The hull has an outer diameter of 900 millimetres and a height of "
            "520 millimetres. "
            "The overall height of the buoy, including the sensor mast, is 1,620 "
            "millimetres. "
            "The buoy floats with a draft of 480 millimetres when fitted with the "
            "standard battery pack. "
            "The complete buoy has a mass of 78 kilograms, including batteries but "
            "excluding the mooring.",
            "The hull is made of closed-cell cross-linked polyethylene foam covered "
            "by a 6 millimetre polyurea skin. "
            "The standard hull colour is RAL 1003 signal yellow, as required for "
            "special marks in most coastal waters. "
            "The hull provides a reserve buoyancy of 210 kilograms above the "
            "normal waterline. "
            "A marine navigation lantern on top of the mast flashes yellow five "
            "times every 20 seconds and is visible at 4 nautical miles.",
            "The electronics are housed in a canister of anodised 6082-T6 aluminium "
            "that is 310 millimetres tall and 220 millimetres in diameter. "
            "The canister is sealed by two nitrile O-rings, and both O-rings must be "
            "replaced every time the canister is opened. "
            "The stainless steel mooring eye at the base of the hull has a minimum "
            "breaking load of 45 kilonewtons.",
        ],
    ),
    (
        "3. Power System",
        [
            "The buoy is powered by the QOI-BAT-2400 lithium iron phosphate battery "
            "pack with a nominal voltage of 12.8 volts. "
            "The battery pack has a rated capacity of 188 ampere-hours, which is "
            "approximately 2,400 watt-hours of stored energy. "
            "The battery pack weighs 21 kilograms and is mounted below the "
            "electronics canister to lower the centre of gravity.",
            "Four QOI-SOL-30 solar panels, each rated at 30 watts, are mounted on the "
            "sides of the mast and recharge the battery. "
            "The solar charge controller stops charging when the battery temperature "
            "falls below 0 degrees Celsius. "
            "The average power consumption of a buoy reporting every 30 minutes is "
            "0.23 watts.",
            "Without any solar charging, a fully charged battery lasts 14 months at "
            "the standard 30-minute reporting interval. "
            "At the 10-minute reporting interval, a fully charged battery lasts about "
            "5 months without solar charging. "
            "With the solar panels fitted, the buoy can operate indefinitely at "
            "latitudes below 60 degrees north.",
            "When the battery voltage falls below 12.0 volts, the buoy automatically "
            "switches to hourly reporting to save energy. "
            "When the battery voltage falls below 11.2 volts, all sensors are switched "
            "off and only the position beacon continues to transmit. "
            "The battery pack must be replaced every 5 years or after 2,000 full "
            "charge cycles, whichever comes first.",
        ],
    ),
    (
        "4. Wave Measurement",
        [
            "Waves are measured by the QOI-WM3 motion sensor, which combines a "
            "three-axis accelerometer, a three-axis gyroscope and a three-axis "
            "magnetometer. "
            "Each wave record is 1,024 seconds long and is sampled at 2 hertz, giving "
            "2,048 samples per record. "
            "A new wave record starts every 30 minutes, and the buoy computes the "
            "wave spectrum on board.",
            "The measurement range for wave height is 0 to 20 metres, with a "
            "resolution of 0.01 metres. "
            "Wave height accuracy is ±2 percent of the measured value or ±0.05 metres, "
            "whichever is greater. "
            "The measurement range for wave period is 1.6 to 30 seconds, with an "
            "accuracy of ±0.1 seconds. "
            "Wave direction is measured from 0 to 360 degrees with a resolution of "
            "1 degree and an accuracy of ±3 degrees.",
            "The wave sensor was validated over a 147-day trial at the Hestnes test "
            "station against a reference buoy owned by an independent institute. "
            "During that trial, significant wave height from the Petrel MB-40 agreed "
            "with the reference buoy to within 1.6 percent root mean square.",
        ],
    ),
    (
        "5. Water and Weather Sensors",
        [
            "Water temperature is measured by a thermistor mounted 0.5 metres below "
            "the waterline in the lower hull. "
            "The water temperature range is -4 to +40 °C, with an accuracy of "
            "±0.05 °C and a resolution of 0.001 °C.",
            "New buoys are fitted with the WS-7 ultrasonic anemometer, which has no "
            "moving parts and requires PetrelOS 4.8.0 or later. "
            "The WS-7 measures wind speed from 0 to 60 metres per second at a height "
            "of 1.1 metres above the waterline. "
            "Wind speed accuracy is ±0.3 metres per second up to 20 metres per second, "
            "and ±2 percent above that speed. "
            "Wind direction accuracy is ±3 degrees after the sensor has been powered "
            "for at least one hour. "
            "Buoys delivered before May 2026 carry the older WS-5 mechanical "
            "anemometer, which remains fully supported.",
            "Air pressure is measured from 600 to 1,100 hectopascals with an accuracy "
            "of ±0.3 hectopascals. "
            "Air temperature is measured from -40 to +60 °C with an accuracy of "
            "±0.2 °C. "
            "Relative humidity is measured from 0 to 100 percent with an accuracy of "
            "±2 percent. "
            "The air temperature and humidity sensor sits inside a naturally "
            "ventilated radiation shield with twelve plates.",
            "The GNSS receiver reports the position of the buoy with an accuracy of "
            "2.5 metres circular error probable. "
            "The buoy raises a watch-circle alarm when it drifts more than 150 metres "
            "from its configured anchor position. "
            "After a watch-circle alarm, the buoy reports its position every "
            "5 minutes until an operator acknowledges the alarm.",
        ],
    ),
    (
        "6. Communication and Data Protocol",
        [
            "The primary communication link is an Iridium Short Burst Data modem "
            "that works anywhere on the ocean surface. "
            "An outbound Iridium message from the buoy carries at most 340 bytes, and "
            "an inbound message to the buoy carries at most 270 bytes. "
            "The reporting interval can be set to 10, 30 or 60 minutes, and the "
            "factory default is 30 minutes.",
            "A secondary LTE-M and NB-IoT cellular modem is used whenever the buoy is "
            "within range of a coastal mobile network. "
            "The cellular link is used for raw data backfill, bulk downloads and "
            "firmware updates. "
            "Cellular connections use TLS 1.3 to the Quillhaven ground station on "
            "TCP port 4710.",
            "All telemetry is encoded with the TideLink binary protocol, and version 3 "
            "is the default from PetrelOS 4.8.0. "
            "Every TideLink frame begins with a 12-byte header that starts with the "
            "two magic bytes 0x51 and 0x4F. "
            "The frame header contains a 32-bit sequence number, which replaced the "
            "12-bit field used in PetrelOS 4.7.0 and 4.7.1. "
            "Timestamps in TideLink frames are 32-bit counts of seconds since "
            "1 January 2000 at 00:00 UTC. "
            "Each frame ends with a CRC-16/CCITT-FALSE checksum that covers the header "
            "and the payload.",
            "If a satellite transmission fails, the buoy retries up to three times "
            "with a 90-second pause between attempts. "
            "Every inbound command must carry an HMAC-SHA256 signature truncated to "
            "8 bytes, and unsigned commands are rejected. "
            "Firmware images are signed with ECDSA on the P-256 curve, and the buoy "
            "refuses to install an image with an invalid signature.",
            "The buoy stores its data on a 16-gigabyte industrial microSD card inside "
            "the electronics canister. "
            "The card holds at least 400 days of summary data and 60 days of raw "
            "2-hertz wave data. "
            "When the card is full, the oldest raw wave data is overwritten first, "
            "while summary data is kept as long as possible.",
        ],
    ),
    (
        "7. Alarms and Remote Commands",
        [
            "The buoy sends an immediate alarm message, outside the normal reporting "
            "schedule, for five conditions. "
            "These conditions are a watch-circle breach, water ingress in the "
            "canister, a battery voltage below 12.0 volts, a failed sensor and a "
            "lantern fault. "
            "The water ingress detector triggers when more than 0.2 millilitres of "
            "water reaches the bottom of the electronics canister.",
            "Operators can change the reporting interval, request a raw data upload or "
            "restart the buoy with a signed remote command. "
            "Inbound commands are collected when the buoy checks its satellite mailbox, "
            "which it does every 30 minutes regardless of the reporting interval. "
            "A remote restart keeps all stored data and configuration, and the buoy "
            "resumes reporting within 4 minutes.",
        ],
    ),
    (
        "8. Installation and Deployment",
        [
            "Before deployment, the buoy must complete a 48-hour burn-in test on the "
            "quayside with all sensors reporting. "
            "The buoy is lifted by its two lifting points with a four-leg sling rated "
            "for at least 500 kilograms. "
            "A deployment crew needs at least two certified members, and the buoy "
            "should not be deployed when the significant wave height exceeds "
            "2.5 metres.",
            "The standard QOI-MK-300 mooring kit consists of a 1,600 kilogram clump "
            "weight, a chain riser and a rubber compliance cord. "
            "The rubber compliance cord is 25 metres long and allows the buoy to "
            "follow the waves without pulling against the anchor. "
            "After deployment, the anchor position must be entered in the ground "
            "station within 24 hours so that the watch-circle alarm is armed.",
        ],
    ),
    (
        "9. Ground Station and Data Services",
        [
            "All buoys report to the Quillhaven ground station, which runs in two "
            "data centres in Norway for redundancy. "
            "Customers receive their data through the Quillhaven data portal or "
            "through a REST interface that returns JSON or NetCDF files. "
            "Summary data appears in the portal on average 90 seconds after the buoy "
            "transmits it. "
            "The ground station keeps all customer data for 10 years unless the "
            "customer asks for earlier deletion.",
            "Fleet Operations monitors every buoy around the clock from Bergen, with "
            "an on-call engineer available outside office hours. "
            "The service level agreement promises 99.5 percent monthly availability of "
            "the data portal, excluding announced maintenance windows.",
        ],
    ),
    (
        "10. Environmental Limits",
        [
            "The operating air temperature range of the Petrel MB-40 is -30 to "
            "+55 °C. "
            "The storage temperature range is -40 to +70 °C when the battery pack is "
            "charged to between 40 and 60 percent. "
            "The electronics canister is rated IP68 and has been tested at a depth of "
            "30 metres for 72 hours.",
            "The buoy has survived sea trials in significant wave heights of up to "
            "14 metres without damage. "
            "With the standard QOI-MK-300 mooring kit, the buoy can be deployed in "
            "water depths from 15 to 300 metres. "
            "Deeper moorings, down to 1,200 metres, are available as a custom "
            "engineering option with a lead time of 16 weeks. "
            "The buoy is not designed for sea ice, and it must be recovered before "
            "ice forms at the deployment site.",
        ],
    ),
    (
        "11. Maintenance Intervals",
        [
            "The mooring line and shackles must be inspected by divers or a remotely "
            "operated vehicle every 6 months. "
            "The sacrificial zinc anodes on the hull must be replaced every "
            "12 months. "
            "The WS-7 anemometer should be inspected and cleaned every 12 months, "
            "while the older WS-5 needs new bearings every 24 months.",
            "A full service recovery, in which the buoy is lifted out of the water, is "
            "required every 24 months. "
            "During a full service recovery, the QOI-WM3 motion sensor calibration is "
            "checked at the Bergen calibration laboratory. "
            "Two fresh 50-gram desiccant bags must be placed in the electronics "
            "canister every time it is opened. "
            "Biofouling on the lower hull should be removed during each mooring "
            "inspection, because heavy growth reduces wave measurement accuracy.",
            "Buoys from the North Atlantic fleet are refurbished at the Halifax service "
            "depot, and North Sea buoys are refurbished in Bergen. "
            "A complete refurbishment at either site normally takes 12 working days "
            "from arrival to dispatch.",
        ],
    ),
    (
        "12. Certification and Compliance",
        [
            "The Petrel MB-40 carries CE marking under the Radio Equipment "
            "Directive 2014/53/EU. "
            "The buoy has been tested for the marine environment according to "
            "IEC 60945, in the exposed equipment category. "
            "The design holds type approval certificate TAA-0000Q71, which was first "
            "issued on 4 March 2024 and is valid until 3 March 2029. "
            "The Iridium modem is a certified module, so no additional satellite "
            "network approval is needed for the complete buoy.",
            "The lithium iron phosphate battery pack has passed the UN 38.3 transport "
            "tests and may be shipped by sea and by road. "
            "Air shipment of the battery pack requires the state of charge to be no "
            "higher than 30 percent. "
            "Quillhaven's manufacturing process in Bergen has been certified to "
            "ISO 9001:2015 since November 2019.",
        ],
    ),
    (
        "13. Ordering Information and Warranty",
        [
            "The standard buoy, with wave and water temperature sensors only, has the "
            "part number QOI-MB40-STD. "
            "The meteorological version, which adds the WS-7 anemometer and the air "
            "sensors, has the part number QOI-MB40-MET. "
            "Spare parts include the QOI-BAT-2400 battery pack, the QOI-SOL-30 solar "
            "panel and the QOI-MK-300 mooring kit.",
            "The standard delivery lead time for a new Petrel MB-40 is 10 weeks from "
            "the date of order. "
            "Every new buoy comes with a warranty of 36 months from the date of "
            "delivery. "
            "The battery pack is covered by a separate warranty of 24 months, because "
            "its life depends strongly on the reporting interval. "
            "Technical questions about this specification should be sent to Sunniva "
            "Kettleborough in the Bergen hardware team.",
        ],
    ),
    (
        "14. Revision History",
        [
            "Revision A was issued in June 2023 for the product launch and covered "
            "PetrelOS 4.2. "
            "Revision B was issued in September 2024 and added the 10-minute "
            "reporting interval. "
            "Revision C was issued on 18 May 2026 and adds the WS-7 anemometer, "
            "TideLink version 3 and the new 12.0-volt low-battery threshold.",
        ],
    ),
]


def build_spec(path: Path) -> None:
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontSize = 11
    body.leading = 15
    body.spaceAfter = 8
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        title=SPEC_TITLE,
        author="Quillhaven Ocean Instruments AS",
        subject="Petrel MB-40 product specification, revision C",
        creator="benchmint examples/make_pdfs.py",
        invariant=1,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=22 * mm,
        bottomMargin=22 * mm,
    )
    story = [Paragraph(escape(SPEC_TITLE), styles["Title"])]
    for line in SPEC_INTRO:
        story.append(Paragraph(escape(line), body))
    story.append(Spacer(1, 6 * mm))
    for heading, paragraphs in SPEC_SECTIONS:
        story.append(Paragraph(escape(heading), styles["Heading2"]))
        for text in paragraphs:
            story.append(Paragraph(escape(text), body))
    doc.build(story)


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "product-spec.pdf"
    build_spec(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
