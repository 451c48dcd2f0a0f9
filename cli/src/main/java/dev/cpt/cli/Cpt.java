package dev.cpt.cli;

import dev.cpt.spec.SpecException;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code cpt} command. Exit codes: 0 success, 1 a spec that cannot be run or a failure while
 * running (one message on stderr; the stack trace only with {@code --verbose} or {@code CPT_DEBUG=1}),
 * 2 a usage error (picocli's default).
 */
@Command(name = "cpt",
        mixinStandardHelpOptions = true,
        versionProvider = Cpt.Version.class,
        description = "Continual pre-training of language models: schedules, replay, training and reports.",
        subcommands = {ScheduleCommand.class, ValidateCommand.class, PrepareCommand.class, TrainCommand.class,
                SweepCommand.class, ReproduceCommand.class, PromoteCommand.class, PlanCommand.class, BenchCommand.class, EvalCommand.class, ExportCommand.class, GenerateCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Run 'cpt COMMAND --help' for a command's options."})
public final class Cpt implements Callable<Integer> {

    static {
        // Charts are drawn off-screen; no display is needed, or wanted, even when one is there.
        System.setProperty("java.awt.headless", "true");
    }

    /** Exit code of a spec that cannot be run, or a failure while running. */
    public static final int EXIT_FAILURE = 1;

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces of failures (also: environment CPT_DEBUG=1).")
    boolean verbose;

    /** {@code cpt} alone: the usage, which lists the commands, as a usage error. */
    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        cl.getErr().println("Missing a command.");
        cl.usage(cl.getErr());
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        // Buffered: `cpt schedule` streams one line per step, and its output may be large.
        PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** The command line with cpt's output streams and failure handling; tests run it in-process. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Cpt());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(Cpt::handleFailure);
        cl.setParameterExceptionHandler(Cpt::handleUsageError);
        return cl;
    }

    /**
     * A usage error: the message, any "did you mean" suggestions, the command's synopsis and where
     * to read more; exit code 2. (picocli's default prints the whole help, which buries the message.)
     */
    private static int handleUsageError(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(cmd.getColorScheme().errorText(ex.getMessage()));
        UnmatchedArgumentException.printSuggestions(ex, err);
        CommandLine.Help help = cmd.getHelp();
        err.print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    private static int handleFailure(Exception ex, CommandLine cmd, ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        boolean debug = debugRequested(cmd);
        if (ex instanceof SpecException) {
            // Already "SPEC.json: N problems" followed by one "path: message" line each.
            err.println(ex.getMessage());
        } else if (ex instanceof CliException) {
            err.println(cmd.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
        } else {
            err.println(cmd.getCommandSpec().qualifiedName() + ": " + describe(ex));
            if (!debug) err.println("(run with --verbose or CPT_DEBUG=1 for the stack trace)");
        }
        if (debug) ex.printStackTrace(err);
        else if (ex instanceof CliException && ex.getCause() != null) {
            err.println("(run with --verbose or CPT_DEBUG=1 for the stack trace)");
        }
        err.flush();
        return EXIT_FAILURE;
    }

    private static String describe(Throwable ex) {
        String message = ex.getMessage();
        String kind = ex.getClass().getSimpleName();
        return message == null || message.isBlank() ? kind : kind + ": " + message;
    }

    /** {@code --verbose} given anywhere on the command line, or {@code CPT_DEBUG} set (and not 0). */
    private static boolean debugRequested(CommandLine cmd) {
        String env = System.getenv("CPT_DEBUG");
        if (env != null && !env.isBlank() && !env.equals("0") && !env.equalsIgnoreCase("false")) return true;
        CommandLine root = cmd;
        while (root.getParent() != null) root = root.getParent();
        for (ParseResult pr = root.getParseResult(); pr != null; pr = pr.subcommand()) {
            if (pr.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    /** {@code cpt --version}: the project version (from the build) and the Java runtime. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "cpt " + projectVersion(),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")"
            };
        }

        static String projectVersion() {
            try (InputStream in = Cpt.class.getResourceAsStream("version.properties")) {
                if (in == null) return "(unknown version)";
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "(unknown version)");
            } catch (IOException e) {
                return "(unknown version)";
            }
        }
    }
}
