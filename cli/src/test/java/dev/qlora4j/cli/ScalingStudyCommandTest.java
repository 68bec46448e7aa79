package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A small scaling study end to end: the table's rows and scalings, the plot, divergence, bad arguments. */
class ScalingStudyCommandTest {
    @TempDir
    Path dir;

    @Test
    void aSmallStudyWritesOneRowAndOneCurvePerRunAndCatchesAnAbsurdAlpha() throws Exception {
        CommandRun r = CommandRun.of("scaling-study", "--ranks", "16,4", "--alphas", "1,64,100000", "--steps", "40",
                "--base-steps", "80", "--eval", "20", "--out", dir.toString());
        assertEquals(0, r.status(), r.out() + r.err());

        List<String> lines = Files.readAllLines(dir.resolve("scaling-study.csv"));
        assertEquals("scaling,rank,alpha,s,start_loss,final_loss,accuracy,status", lines.get(0));
        assertEquals(1 + 2 * 2 * 3, lines.size(), String.join("\n", lines));
        Map<String, String[]> rows = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            assertEquals(8, cells.length, line);
            rows.put(cells[0] + " " + cells[1] + " " + cells[2], cells);
        }
        for (String kind : List.of("standard", "rsLoRA")) {
            for (int rank : new int[]{4, 16}) {
                for (int alpha : new int[]{1, 64, 100000}) {
                    String[] row = rows.get(kind + " " + rank + " " + alpha);
                    assertTrue(row != null, "no row for " + kind + " r=" + rank + " alpha=" + alpha + " in\n" + lines);
                    double expected = kind.equals("standard") ? alpha / (double) rank : alpha / Math.sqrt(rank);
                    assertEquals(expected, Double.parseDouble(row[3]), 1e-9 * expected, String.join(",", row));
                }
            }
        }
        // alpha 100000 at r 4 is s = 25,000 (standard) or 50,000 (rsLoRA): the update swamps the base.
        for (String kind : List.of("standard", "rsLoRA")) {
            String[] absurd = rows.get(kind + " 4 100000");
            String[] moderate = rows.get(kind + " 4 64");
            assertTrue(absurd[7].startsWith("diverged at step ") || absurd[7].equals("too high")
                            && Double.parseDouble(absurd[5]) > 3 * Double.parseDouble(moderate[5]),
                    kind + ": alpha 100000 " + String.join(",", absurd) + " vs alpha 64 " + String.join(",", moderate));
            assertEquals("ok", moderate[7], String.join(",", moderate));
        }

        Document svg = parse(Files.readAllBytes(dir.resolve("scaling-study.svg")));
        assertEquals("svg", svg.getDocumentElement().getTagName());
        assertEquals(12, svg.getElementsByTagName("polyline").getLength() + svg.getElementsByTagName("path").getLength());

        String md = Files.readString(dir.resolve("scaling-study.md"));
        assertEquals(12, md.lines().filter(l -> l.matches("\\| (standard|rsLoRA) .*")).count(), md);
        assertTrue(r.out().contains("Conclusions") && r.out().contains("best alpha"), r.out());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.toString().endsWith(".tmp")).toList(), "temporary files left behind");
        }
    }

    @Test
    void badArgumentsAreRefusedWithWhatWasGivenAndWhatWasExpected() {
        assertRefused("--ranks \",\": expected a comma-separated list of ranks", "--ranks", ",");
        assertRefused("\"four\" is not a whole number", "--ranks", "4,four");
        assertRefused("0 is out of range; expected 1..64", "--ranks", "0");
        assertRefused("65 is out of range; expected 1..64", "--ranks", "65");
        assertRefused("\"x\" is not a number", "--alphas", "16,x");
        assertRefused("-1 is out of range; expected a finite alpha > 0", "--alphas", "-1");
        assertRefused("--steps 0: expected at least 1", "--steps", "0");
        assertRefused("--lr 0: expected a learning rate > 0", "--lr", "0");
    }

    private static void assertRefused(String message, String... args) {
        String[] line = new String[args.length + 1];
        line[0] = "scaling-study";
        System.arraycopy(args, 0, line, 1, args.length);
        CommandRun r = CommandRun.of(line);
        assertEquals(2, r.status(), r.out() + r.err());
        assertTrue(r.err().contains(message) && r.err().contains("usage: qlora4j scaling-study"), r.err());
    }

    /** Parses XML with external entities and DTDs refused, as for any file not of our making. */
    static Document parse(byte[] xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }
}
