using StackExchange.Redis;

namespace AunceSearch.Hosting;

/// <summary>A Redis connection string with its password applied from a separate setting (a secret kept out of the string).</summary>
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
}
