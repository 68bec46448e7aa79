package dev.qlora4j.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The one line a command prints when it fails. The JDK's file-system exceptions carry only a path
 * as their message ({@code NoSuchFileException: a/b.json}); a user needs the reason beside it.
 */
final class FailureMessage {
    private FailureMessage() {
    }

    static String of(Throwable e) {
        if (e instanceof FileSystemException f) {
            String reason = switch (f) {
                case NoSuchFileException _ -> "no such file or folder";
                case AccessDeniedException _ -> "permission denied";
                case FileAlreadyExistsException _ -> "already exists, and is in the way";
                case NotDirectoryException _ -> "not a folder";
                case DirectoryNotEmptyException _ -> "the folder is not empty";
                default -> f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
            };
            String where = f.getFile() == null ? "" : f.getFile() + (f.getOtherFile() == null ? "" : " → " + f.getOtherFile());
            return where.isEmpty() ? reason : where + ": " + reason;
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory: " + e.getMessage();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getName();
    }
}
