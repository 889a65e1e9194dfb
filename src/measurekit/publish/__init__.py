"""Stage 5 of the flow: what leaves the building. The board table (neighbourhood estimates with
intervals), disclosure control and its independent audit, the board pack (CSV, data package,
Excel, spec sheets, briefings) and the HTML builder the reports share."""
