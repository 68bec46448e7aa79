package dev.qlora4j.cli;

import java.util.Locale;

/**
 * A small SVG document writer: shapes with numeric coordinates and escaped text, so the output is
 * well-formed XML whatever the labels hold. Numbers are written with a '.' in every locale.
 */
final class SvgWriter {
    private final StringBuilder svg = new StringBuilder();

    SvgWriter(double width, double height) {
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(num(width)).append("\" height=\"")
                .append(num(height)).append("\" viewBox=\"0 0 ").append(num(width)).append(' ').append(num(height))
                .append("\" font-family=\"sans-serif\">\n");
    }

    /** Text safe inside an element or a quoted attribute: &amp;, &lt;, &gt;, both quotes escaped. */
    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    void rect(double x, double y, double w, double h, String fill, String stroke) {
        svg.append(String.format(Locale.ROOT, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" stroke=\"%s\"/>%n",
                num(x), num(y), num(w), num(h), escape(fill), escape(stroke)));
    }

    void line(double x1, double y1, double x2, double y2, String stroke, double width) {
        svg.append(String.format(Locale.ROOT, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>%n",
                num(x1), num(y1), num(x2), num(y2), escape(stroke), num(width)));
    }

    /** A polyline through {x0, y0, x1, y1, ...} with a tooltip. */
    void polyline(double[] xy, String stroke, double width, String tooltip) {
        StringBuilder points = new StringBuilder();
        for (int i = 0; i < xy.length; i += 2) {
            points.append(i == 0 ? "" : " ").append(num(xy[i])).append(',').append(num(xy[i + 1]));
        }
        svg.append(String.format(Locale.ROOT,
                "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" stroke-linejoin=\"round\">"
                        + "<title>%s</title></polyline>%n", points, escape(stroke), num(width), escape(tooltip)));
    }

    /** Text at (x, y); anchor is start, middle or end; rotated by {@code degrees} about its anchor. */
    void text(double x, double y, String text, double size, String anchor, double degrees) {
        String rotate = degrees == 0 ? "" : String.format(Locale.ROOT, " transform=\"rotate(%s %s %s)\"", num(degrees), num(x), num(y));
        svg.append(String.format(Locale.ROOT, "<text x=\"%s\" y=\"%s\" font-size=\"%s\" text-anchor=\"%s\"%s>%s</text>%n",
                num(x), num(y), num(size), escape(anchor), rotate, escape(text)));
    }

    /** The finished document. */
    String finish() {
        return svg + "</svg>\n";
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
