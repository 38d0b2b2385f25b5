using AunceSearch.Cli;

// Ctrl-C and SIGTERM cancel the running command's token (a sweep is cancelled, journal written, exit 1).
return await CliApp.RunAsync(args, Console.Out, Console.Error, handleSignals: true);
