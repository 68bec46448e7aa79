package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The SVG writer's escaping: labels with XML's special characters must come back as written. */
class SvgWriterTest {
    @Test
    void escapesAmpersandsAnglesAndQuotes() {
        assertEquals("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;", SvgWriter.escape("a & b <c> \"d\" 'e'"));
        assertEquals("plain text, √r", SvgWriter.escape("plain text, √r"));
    }

    @Test
    void textAndTooltipsSurviveAnXmlParserUnchanged() throws Exception {
        String label = "alpha < 4 & \"rank\" > 'two'";
        SvgWriter w = new SvgWriter(100, 50);
        w.text(10, 20, label, 12, "start", 0);
        w.polyline(new double[]{0, 0, 10, 10}, "#123456", 1, label);
        Document doc = ScalingStudyCommandTest.parse(w.finish().getBytes(StandardCharsets.UTF_8));
        assertEquals(label, doc.getElementsByTagName("text").item(0).getTextContent());
        Element polyline = (Element) doc.getElementsByTagName("polyline").item(0);
        assertEquals(label, polyline.getTextContent());
        assertEquals("0,0 10,10", polyline.getAttribute("points"));
    }
}
