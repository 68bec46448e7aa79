package dev.qlora4j.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Just enough of a C header reader to check hand-written bindings: finds function prototypes
 * (multi-line, with the CUDA decorations such as {@code __host__}, {@code CUDARTAPI} and
 * {@code __dv(0)}), maps their C types to the FFM layouts the bindings must use, and reads enum
 * values and numeric macros. Types it does not know fail loudly, so a new binding needs a mapping
 * here rather than passing unchecked.
 */
final class CHeader {
    private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
    private static final Pattern LINE_COMMENT = Pattern.compile("//[^\n]*");
    private static final Pattern PREPROCESSOR_LINE = Pattern.compile("(?m)^[ \t]*#(?:[^\n]*\\\\\n)*[^\n]*");
    // Decorations: reserved double-underscore macros, with or without arguments (__host__, __dv(0)),
    // and the calling-convention and export macros of the CUDA runtime and cuBLAS headers.
    private static final Pattern DECORATION = Pattern.compile(
            "\\b__\\w+\\s*\\((?:[^()]|\\([^()]*\\))*\\)|\\b__\\w+\\b|\\b(?:extern|CUDARTAPI|CUDART_CB|CUBLASAPI|CUBLASWINAPI)\\b|\"C\"");

    private static final MemoryLayout INT = ValueLayout.JAVA_INT;
    private static final MemoryLayout LONG = ValueLayout.JAVA_LONG;
    private static final MemoryLayout POINTER = ValueLayout.ADDRESS;
    private static final Map<String, MemoryLayout> TYPES = Map.ofEntries(
            Map.entry("int", INT), Map.entry("unsigned int", INT), Map.entry("unsigned", INT),
            Map.entry("size_t", LONG), Map.entry("long long", LONG), Map.entry("long long int", LONG),
            Map.entry("unsigned long long", LONG), Map.entry("int64_t", LONG),
            Map.entry("float", ValueLayout.JAVA_FLOAT), Map.entry("double", ValueLayout.JAVA_DOUBLE),
            // enums (C enums are int-sized on every platform CUDA supports)
            Map.entry("cudaError_t", INT), Map.entry("cudaMemcpyKind", INT), Map.entry("cudaDeviceAttr", INT),
            Map.entry("cudaDataType", INT), Map.entry("cudaDataType_t", INT), Map.entry("cublasStatus_t", INT),
            Map.entry("cublasOperation_t", INT), Map.entry("cublasComputeType_t", INT),
            Map.entry("cublasGemmAlgo_t", INT), Map.entry("cublasMath_t", INT),
            // opaque handles: pointers to incomplete structs
            Map.entry("cudaStream_t", POINTER), Map.entry("cudaEvent_t", POINTER),
            Map.entry("cudaLibrary_t", POINTER), Map.entry("cudaKernel_t", POINTER),
            Map.entry("cublasHandle_t", POINTER),
            Map.entry("dim3", MemoryLayout.structLayout(INT, INT, INT)));

    private final String text;

    private CHeader(String text) {
        this.text = text;
    }

    /** The directory holding {@code header}: {@code $CUDA_HOME/include}, else {@code /usr/local/cuda/include}. */
    static Optional<Path> find(String header) {
        List<Path> dirs = new ArrayList<>();
        String home = System.getenv("CUDA_HOME");
        if (home != null && !home.isBlank()) {
            dirs.add(Path.of(home, "include"));
        }
        dirs.add(Path.of("/usr/local/cuda/include"));
        return dirs.stream().filter(d -> Files.isRegularFile(d.resolve(header))).findFirst();
    }

    /** The headers read as one text, comments removed. */
    static CHeader read(Path... files) {
        StringBuilder all = new StringBuilder();
        for (Path f : files) {
            try {
                all.append(Files.readString(f)).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String noComments = LINE_COMMENT.matcher(BLOCK_COMMENT.matcher(all).replaceAll(" ")).replaceAll("");
        return new CHeader(noComments);
    }

    /**
     * Every declaration (not definition) of function {@code name}, as the descriptor its C types
     * call for; a header can declare one function more than once (CUDA repeats some for the
     * per-thread default stream).
     */
    List<FunctionDescriptor> prototypes(String name) {
        String code = PREPROCESSOR_LINE.matcher(text).replaceAll("");
        List<FunctionDescriptor> found = new ArrayList<>();
        Matcher m = Pattern.compile("\\b" + Pattern.quote(name) + "\\s*\\(").matcher(code);
        while (m.find()) {
            int start = Math.max(code.lastIndexOf(';', m.start()),
                    Math.max(code.lastIndexOf('}', m.start()), code.lastIndexOf('{', m.start()))) + 1;
            String returnType = decorationsRemoved(code.substring(start, m.start()));
            if (returnType.isEmpty() || returnType.matches(".*[()=,].*")) {
                continue; // a call, a cast or a macro use, not a declaration
            }
            int close = matchingParen(code, m.end() - 1);
            String after = code.substring(close + 1).stripLeading();
            if (!after.startsWith(";")) {
                continue; // a definition (an inline overload) or something else
            }
            found.add(descriptor(name, returnType, code.substring(m.end(), close)));
        }
        return found;
    }

    /** The value of enum constant or numeric macro {@code name}, if the header defines it. */
    Optional<Long> constant(String name) {
        Matcher define = Pattern.compile("(?m)^[ \t]*#[ \t]*define[ \t]+" + Pattern.quote(name) + "[ \t]+\\(?([-+]?\\w+)\\)?").matcher(text);
        if (define.find()) {
            return Optional.of(Long.decode(define.group(1).replaceAll("[uUlL]+$", "")));
        }
        Matcher enumerator = Pattern.compile("\\b" + Pattern.quote(name) + "\\s*=\\s*([-+]?\\w+)\\s*[,}]").matcher(text);
        return enumerator.find() ? Optional.of(Long.decode(enumerator.group(1))) : Optional.empty();
    }

    private static String decorationsRemoved(String s) {
        return DECORATION.matcher(s).replaceAll(" ").replaceAll("\\s+", " ").strip();
    }

    private static int matchingParen(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("unbalanced parentheses after " + s.substring(open, Math.min(s.length(), open + 80)));
    }

    private static FunctionDescriptor descriptor(String function, String returnType, String params) {
        List<MemoryLayout> args = new ArrayList<>();
        String p = decorationsRemoved(params);
        if (!p.isEmpty() && !p.equals("void")) {
            for (String param : splitTopLevel(p)) {
                args.add(layout(function, param, true));
            }
        }
        MemoryLayout[] a = args.toArray(MemoryLayout[]::new);
        return returnType.equals("void") ? FunctionDescriptor.ofVoid(a)
                : FunctionDescriptor.of(layout(function, returnType, false), a);
    }

    private static List<String> splitTopLevel(String params) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int from = 0;
        for (int i = 0; i < params.length(); i++) {
            char c = params.charAt(i);
            if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(params.substring(from, i));
                from = i + 1;
            }
        }
        parts.add(params.substring(from));
        return parts;
    }

    /** The layout for a C declaration: a type, or (when {@code named}) a type and a parameter name. */
    private static MemoryLayout layout(String function, String declaration, boolean named) {
        if (declaration.contains("*") || declaration.contains("[")) {
            return POINTER;
        }
        List<String> words = Arrays.stream(declaration.strip().split("\\s+"))
                .filter(w -> !Set.of("const", "volatile", "enum", "struct").contains(w))
                .toList();
        String type = String.join(" ", words);
        if (!TYPES.containsKey(type) && named && words.size() > 1) {
            type = String.join(" ", words.subList(0, words.size() - 1));
        }
        MemoryLayout l = TYPES.get(type);
        if (l == null) {
            throw new IllegalArgumentException(function + ": no FFM mapping for C type in '" + declaration.strip() + "'");
        }
        return l;
    }

    /** Layout shape without names: carriers, sizes and struct members. */
    static String shape(FunctionDescriptor d) {
        return d.returnLayout().map(CHeader::shape).orElse("void")
                + d.argumentLayouts().stream().map(CHeader::shape).collect(Collectors.joining(", ", "(", ")"));
    }

    static String shape(MemoryLayout l) {
        return switch (l) {
            case AddressLayout a -> "pointer" + a.byteSize();
            case ValueLayout v -> v.carrier().getSimpleName() + v.byteSize();
            case StructLayout s -> s.memberLayouts().stream().map(CHeader::shape).collect(Collectors.joining(", ", "struct{", "}"));
            case PaddingLayout p -> "padding" + p.byteSize();
            default -> l.toString();
        };
    }
}
