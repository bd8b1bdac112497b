"""One check the three panel modules' tests share: the class meets `module.py`'s contract."""

import inspect

from ezscale.services.provisioning.module import Capability, PanelConfig, PowerAction, ProvisioningModule


def assert_meets_contract(cls: type) -> None:
    """Same methods with the same parameters as the Protocol, the class attributes typed, power
    actions only with Capability.POWER, and constructed from a PanelConfig."""
    for name, member in vars(ProvisioningModule).items():
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        ours = getattr(cls, name, None)
        assert callable(ours), f"{cls.__name__} lacks {name}"
        expected = list(inspect.signature(member).parameters)
        assert list(inspect.signature(ours).parameters) == expected, f"{cls.__name__}.{name} signature"
    assert isinstance(cls.name, str) and cls.name and isinstance(cls.label, str) and cls.label
    assert all(isinstance(c, Capability) for c in cls.capabilities)
    assert all(isinstance(a, PowerAction) for a in cls.power_actions)
    assert bool(cls.power_actions) == (Capability.POWER in cls.capabilities)
    module = cls(PanelConfig(module=cls.name, base_url="http://127.0.0.1:1", credentials={}))
    assert module.config.module == cls.name
