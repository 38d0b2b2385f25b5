using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Optim;

/// <summary>
/// The trainer's optimizer by name: <c>flat-adamw</c> (<see cref="FlatAdamW"/>, one multi-tensor step) or <c>adamw</c>
/// (TorchSharp's per-parameter AdamW). One <see cref="Step"/> = zero the gradients, backward, update.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    public static readonly string[] Names = ["flat-adamw", "adamw"];

    private readonly FlatAdamW? _flat;
    private readonly TorchSharp.Modules.AdamW? _adamw;
    private readonly double _lr;
    private readonly double _weightDecay;

    public TrainingOptimizer(string name, IList<TorchSharp.Modules.Parameter> parameters, double lr, double weightDecay, bool channelsLast = false)
    {
        Name = name;
        switch (name)
        {
            case "flat-adamw":
                _flat = new FlatAdamW(parameters, lr, weightDecay: weightDecay, channelsLast: channelsLast);
                break;
            case "adamw":
                _adamw = torch.optim.AdamW(parameters, lr, weight_decay: weightDecay);
                _lr = lr;
                _weightDecay = weightDecay;
                break;
            default:
                throw new ArgumentException($"optimizer: '{name}' is not one of {string.Join(", ", Names)}");
        }
    }

    public string Name { get; }

    /// <summary>Zero grads, back-propagate <paramref name="loss"/>, (optionally look at the gradients,) update the parameters.</summary>
    public void Step(Tensor loss, Action? beforeUpdate = null)
    {
        if (_flat is not null)
        {
            _flat.ZeroGrad();
            loss.backward();
            beforeUpdate?.Invoke();
            _flat.Step();
        }
        else
        {
            _adamw!.zero_grad();
            loss.backward();
            beforeUpdate?.Invoke();
            _adamw.step();
        }
    }

    public void Save(BinaryWriter writer)
    {
        if (_flat is not null)
        {
            _flat.Save(writer);
        }
        else
        {
            _adamw!.save_state_dict(writer);
        }
    }

    /// <summary>Restores a state written by <see cref="Save"/>; <paramref name="label"/> names the checkpoint in errors.</summary>
    public void Load(BinaryReader reader, string label)
    {
        if (_flat is not null)
        {
            _flat.Load(reader, label);
        }
        else
        {
            _adamw!.load_state_dict(reader);
            foreach (var group in _adamw.ParamGroups)
            {
                // The moments come from the checkpoint; the rates are this run's (PBT may have changed them).
                group.LearningRate = _lr;
                if (group is TorchSharp.Modules.AdamW.ParamGroup adamGroup)
                {
                    adamGroup.Options.weight_decay = _weightDecay;
                }
            }
        }
    }

    public void Dispose()
    {
        _flat?.Dispose();
        _adamw?.Dispose();
    }
}
