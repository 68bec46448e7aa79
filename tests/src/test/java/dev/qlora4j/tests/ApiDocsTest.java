package dev.qlora4j.tests;

import com.sun.source.doctree.DocCommentTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.ModifiersTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.DocTrees;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import javax.lang.model.element.Modifier;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every public type, constructor, method, field and enum constant of every exported package has a
 * Javadoc comment (an override inherits its parent's). The build's doclint ({@code -Xdoclint:all,-missing}
 * in javac and javadoc) checks what the comments say is well-formed; this checks that they are there,
 * which doclint can only demand together with a tag for every parameter.
 */
class ApiDocsTest {
    /** The modules embedders use; the CLI exports nothing, benchmarks and tests are not API. */
    private static final List<String> MODULES = List.of("json", "engine", "engine-cuda", "cuda-bindings", "nf4",
            "tokenizer", "autograd");
    private static final Pattern EXPORTS = Pattern.compile("^\\s*exports\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);

    @Test
    void everyPublicElementOfTheApiIsDocumented() throws IOException {
        Path root = SourceTree.root().orElse(null);
        Assumptions.assumeTrue(root != null, "the API docs are checked in the source tree");
        List<Path> files = new ArrayList<>();
        for (String module : MODULES) {
            Path src = root.resolve(module).resolve("src/main/java");
            Matcher m = EXPORTS.matcher(Files.readString(src.resolve("module-info.java")));
            while (m.find()) {
                Path pkg = src.resolve(m.group(1).replace('.', '/'));
                try (Stream<Path> s = Files.list(pkg)) {
                    s.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java")).forEach(files::add);
                }
            }
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> missing = new ArrayList<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            Iterable<? extends JavaFileObject> units = fm.getJavaFileObjectsFromPaths(files);
            JavacTask task = (JavacTask) javac.getTask(null, fm, d -> { }, List.of("-proc:none"), null, units);
            DocTrees docs = DocTrees.instance(task);
            for (CompilationUnitTree unit : task.parse()) {
                new Scanner(docs, unit, missing).scan(new TreePath(unit), null);
            }
        }
        assertEquals(List.of(), missing, missing.size() + " public API elements without a Javadoc comment");
    }

    /** Walks public types and their public or protected members, noting those without a comment. */
    private static final class Scanner extends TreePathScanner<Void, Void> {
        private final DocTrees docs;
        private final CompilationUnitTree unit;
        private final List<String> missing;

        Scanner(DocTrees docs, CompilationUnitTree unit, List<String> missing) {
            this.docs = docs;
            this.unit = unit;
            this.missing = missing;
        }

        @Override
        public Void visitClass(ClassTree c, Void unused) {
            if (!visible(c.getModifiers(), false)) {
                return null;
            }
            // Scanning a nested type with scan(TreePath) clears the current path: keep this type's.
            TreePath here = getCurrentPath();
            checkAt(here, c.getSimpleName().toString());
            boolean api = c.getKind() == Tree.Kind.INTERFACE || c.getKind() == Tree.Kind.ANNOTATION_TYPE;
            for (Tree member : c.getMembers()) {
                TreePath path = new TreePath(here, member);
                switch (member) {
                    case ClassTree inner -> scan(path, null);
                    case MethodTree m when visible(m.getModifiers(), api) && !overrides(m) && !generated(m, c) ->
                            checkAt(path, c.getSimpleName() + "." + (m.getName().contentEquals("<init>")
                                    ? c.getSimpleName() : m.getName()) + "()");
                    case VariableTree v when visible(v.getModifiers(), api) || isEnumConstant(v, c) ->
                            checkAt(path, c.getSimpleName() + "." + v.getName());
                    default -> {
                    }
                }
            }
            return null;
        }

        private void checkAt(TreePath path, String what) {
            DocCommentTree doc = docs.getDocCommentTree(path);
            if (doc == null) {
                missing.add(unit.getPackageName() + "." + what);
            }
        }

        private static boolean visible(ModifiersTree m, boolean interfaceMember) {
            Set<Modifier> f = m.getFlags();
            return f.contains(Modifier.PUBLIC) || f.contains(Modifier.PROTECTED) || (interfaceMember && !f.contains(Modifier.PRIVATE));
        }

        private static boolean overrides(MethodTree m) {
            return m.getModifiers().getAnnotations().stream().anyMatch(a -> a.getAnnotationType().toString().equals("Override"));
        }

        /** A record's canonical constructor is documented by the record's own comment and its {@code @param}s. */
        private static boolean generated(MethodTree m, ClassTree c) {
            return c.getKind() == Tree.Kind.RECORD && m.getName().contentEquals("<init>");
        }

        /** Enum constants parse as fields typed by their enum, with no modifiers written. */
        private static boolean isEnumConstant(VariableTree v, ClassTree c) {
            return c.getKind() == Tree.Kind.ENUM && v.getType() != null
                    && v.getType().toString().equals(c.getSimpleName().toString());
        }
    }
}
