using StackExchange.Redis;

namespace AunceSearch.Hosting;

/// <summary>A Redis connection string with its password applied from a separate setting (a secret kept out of the string), and what Redis says when it refuses it.</summary>
public static class RedisConnection
{
    /// <summary>The parsed connection; <paramref name="password"/>, when set, overrides any password in the string.</summary>
    public static ConfigurationOptions Options(string connection, string? password)
    {
        var options = ConfigurationOptions.Parse(connection);
        if (!string.IsNullOrEmpty(password))
        {
            options.Password = password;
        }

        return options;
    }

    /// <summary>
    /// StackExchange.Redis' words when <paramref name="e"/> (or an exception inside it) is Redis refusing the password,
    /// else null. Orleans' Redis reminders wrap the client's exception as text only, so messages are what is matched.
    /// </summary>
    public static string? RefusedPassword(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            var message = e.Message.Split('\n')[0];
            var at = message.IndexOf("It was not possible to connect to the redis server", StringComparison.Ordinal);
            if (message.Contains("There was an authentication failure", StringComparison.Ordinal) && at >= 0)
            {
                return message[at..];
            }
        }

        return null;
    }
}
