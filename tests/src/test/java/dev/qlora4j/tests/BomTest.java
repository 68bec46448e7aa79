package dev.qlora4j.tests;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The BOM manages exactly the published artifacts: every module of the parent pom except the BOM
 * itself and those that are not published (the test kit, the cross-module tests, the benchmarks),
 * at the parent's version.
 */
class BomTest {
    private static final Set<String> UNPUBLISHED = Set.of("bom", "testkit", "tests", "benchmarks");
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern ARTIFACT = Pattern.compile("<artifactId>([^<]+)</artifactId>");
    private static final Pattern VERSION = Pattern.compile("<version>([^<$]+)</version>");

    @Test
    void theBomListsEveryPublishedModule() throws IOException {
        Path root = SourceTree.root().orElse(null);
        Assumptions.assumeTrue(root != null, "the BOM is checked in the source tree");
        String parent = Files.readString(root.resolve("pom.xml"));
        Set<String> published = new TreeSet<>();
        Matcher m = MODULE.matcher(parent);
        while (m.find()) {
            if (!UNPUBLISHED.contains(m.group(1))) {
                published.add(firstMatch(ARTIFACT, ownCoordinates(Files.readString(root.resolve(m.group(1)).resolve("pom.xml")))));
            }
        }
        String bom = Files.readString(root.resolve("bom/pom.xml"));
        String managed = bom.substring(bom.indexOf("<dependencyManagement>"));
        Set<String> listed = new TreeSet<>();
        Matcher a = ARTIFACT.matcher(managed);
        while (a.find()) {
            listed.add(a.group(1));
        }
        assertEquals(published, listed, "the artifacts qlora4j-bom manages");
        assertEquals(firstMatch(VERSION, ownCoordinates(parent)), firstMatch(VERSION, ownCoordinates(bom)),
                "the BOM's version is the build's");
    }

    /** The part of a pom after its parent block, where its own artifactId and version stand. */
    private static String ownCoordinates(String pom) {
        int parentEnd = pom.indexOf("</parent>");
        return parentEnd < 0 ? pom : pom.substring(parentEnd);
    }

    private static String firstMatch(Pattern p, String text) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new AssertionError("no " + p + " in a pom");
        }
        return m.group(1);
    }
}
